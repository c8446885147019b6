// Runs an exported BatchNormMlp ONNX model with ONNX Runtime (CPU) for the NUnit comparison tests.
// Usage: node run.js JOB.json
// JOB.json: {"model": "m.onnx", "input": "ids" | "features", "dims": [N, W], "data": [...], "output": "logits.bin"}
// Writes the "logits" output as raw little-endian float32 to job.output and prints its dims as JSON.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  if (process.argv.length !== 3) throw new Error('usage: node run.js JOB.json');
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const session = await ort.InferenceSession.create(job.model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const input = job.input === 'ids'
    ? new ort.Tensor('int64', BigInt64Array.from(job.data, (v) => BigInt(v)), job.dims)
    : new ort.Tensor('float32', Float32Array.from(job.data), job.dims);
  const results = await session.run({ [job.input]: input });
  const logits = results.logits;
  if (!logits || logits.type !== 'float32') throw new Error('the model has no float32 output named "logits"');
  const data = logits.data;
  fs.writeFileSync(job.output, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  process.stdout.write(JSON.stringify({ dims: logits.dims }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`run.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
