using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Export.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Microsoft.ML.BatchNormMlp.Tests.Export;

/// <summary>
/// Runs exported models in a real ONNX Runtime (Microsoft.ML.OnnxRuntime, in process) and compares its outputs with
/// the C# forward pass: logits to 1e-4, the softmax output to 1e-5.
/// </summary>
public class OnnxExportTests
{
    private string _dir = null!;

    [SetUp] public void SetUp() => _dir = ExportTestModels.TempDirectory();
    [TearDown] public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static readonly object[] Cases = ExportTestModels.NamesWithGroups
        .SelectMany(name => new[] { new object[] { name, false }, new object[] { name, true } }).ToArray();

    [TestCaseSource(nameof(Cases))]
    public void OnnxRuntime_MatchesTheCSharpLogits_ForManyRowsAndForOne(string name, bool folded)
    {
        var model = ExportTestModels.Random(name, seed: 33);
        if (folded) model = BatchNormFolding.Fold(model);
        string onnx = Path.Combine(_dir, "model.onnx");
        OnnxExport.Save(onnx, model);

        var c = model.Config;
        foreach (int rows in new[] { 700, 1 })
        {
            int[]? ids = c.IsDense ? null : ExportTestModels.Contexts(c, rows, (ulong)rows);
            float[]? x = c.IsDense ? ExportTestModels.Features(c, rows, (ulong)rows) : null;
            var expected = ExportTestModels.Logits(model, ids, x, rows);

            var outputs = RunOnnxRuntime(onnx, ids, x, rows, c.IsDense ? c.DenseInputWidth : c.ContextLength);

            Assert.That(outputs.Keys, Is.EqualTo(new[] { OnnxExport.LogitsOutput }), "outputs of the plain graph");
            var (dims, actual) = outputs[OnnxExport.LogitsOutput];
            Assert.That(dims, Is.EqualTo(new long[] { rows, c.OutputWidth }));
            double diff = ExportTestModels.MaxAbsDifference(expected, actual);
            TestContext.Out.WriteLine($"{name} folded={folded} rows={rows}: max |ORT - C#| = {diff:E2}");
            Assert.That(diff, Is.LessThanOrEqualTo(1e-4), $"rows={rows}");
        }
    }

    // Folded models (the ML.NET route exports folded ones) of every architecture, with each option alone and both;
    // key input only where the model reads symbol ids.
    private static readonly object[] OptionCases = ExportTestModels.Names
        .SelectMany(name => new[] { (Key: true, Probs: false), (Key: false, Probs: true), (Key: true, Probs: true) }
            .Where(o => !(o.Key && ExportTestModels.Config(name).IsDense))
            .Select(o => new object[] { name, o.Key, o.Probs }))
        .ToArray();

    [TestCaseSource(nameof(OptionCases))]
    public void OnnxRuntime_WithOptions_MatchesTheCSharpLogitsAndSoftmax(string name, bool keyInput, bool probabilities)
    {
        var model = BatchNormFolding.Fold(ExportTestModels.Random(name, seed: 34));
        string onnx = Path.Combine(_dir, "model.onnx");
        OnnxExport.Save(onnx, model, new OnnxExportOptions { KeyInput = keyInput, Probabilities = probabilities });

        var c = model.Config;
        foreach (int rows in new[] { 700, 1 })
        {
            int[]? ids = c.IsDense ? null : ExportTestModels.Contexts(c, rows, (ulong)rows);
            float[]? x = c.IsDense ? ExportTestModels.Features(c, rows, (ulong)rows) : null;
            var expected = ExportTestModels.Logits(model, ids, x, rows);
            // ML.NET key values: vocabulary id + 1.
            int[]? fed = keyInput ? ids!.Select(id => id + 1).ToArray() : ids;

            var outputs = RunOnnxRuntime(onnx, fed, x, rows, c.IsDense ? c.DenseInputWidth : c.ContextLength, keyInput);

            string[] names = probabilities ? [OnnxExport.LogitsOutput, OnnxExport.ProbabilitiesOutput] : [OnnxExport.LogitsOutput];
            Assert.That(outputs.Keys, Is.EqualTo(names));
            var (dims, logits) = outputs[OnnxExport.LogitsOutput];
            Assert.That(dims, Is.EqualTo(new long[] { rows, c.OutputWidth }));
            double logitDiff = ExportTestModels.MaxAbsDifference(expected, logits);
            string line = $"{name} key={keyInput} probabilities={probabilities} rows={rows}: max |ORT - C#| logits {logitDiff:E2}";
            Assert.That(logitDiff, Is.LessThanOrEqualTo(1e-4), $"logits, rows={rows}");

            if (probabilities)
            {
                var (probDims, probs) = outputs[OnnxExport.ProbabilitiesOutput];
                Assert.That(probDims, Is.EqualTo(new long[] { rows, c.OutputWidth }));
                double probDiff = ExportTestModels.MaxAbsDifference(Softmax(expected, c.OutputWidth), probs);
                line += $", probabilities {probDiff:E2}";
                Assert.That(probDiff, Is.LessThanOrEqualTo(1e-5), $"probabilities, rows={rows}");
            }
            TestContext.Out.WriteLine(line);
        }
    }

    [Test]
    public void KeyInput_ReadsKeyValues_NotVocabularyIds()
    {
        // The same contexts given as plain ids to the key-input graph name other symbols (id - 1) and give other
        // logits: the Sub is really there, and the plain graph is not silently written instead.
        var model = BatchNormFolding.Fold(ExportTestModels.Random("post-bn-residual", seed: 35));
        var c = model.Config;
        int[] ids = ExportTestModels.Contexts(c, 50, 50).Select(id => Math.Max(id, 1)).ToArray();
        string onnx = Path.Combine(_dir, "key.onnx");
        OnnxExport.Save(onnx, model, new OnnxExportOptions { KeyInput = true });

        var logits = RunOnnxRuntime(onnx, ids, null, 50, c.ContextLength, keyInput: true)[OnnxExport.LogitsOutput].Data;

        var shifted = ExportTestModels.Logits(model, ids.Select(id => id - 1).ToArray(), null, 50);
        Assert.That(ExportTestModels.MaxAbsDifference(shifted, logits), Is.LessThanOrEqualTo(1e-4));
        Assert.That(ExportTestModels.MaxAbsDifference(ExportTestModels.Logits(model, ids, null, 50), logits), Is.GreaterThan(1e-2));
    }

    [Test]
    public void KeyInput_AMissingKey_FailsTheRun_RatherThanReadingASymbol()
    {
        // Key value 0 is ML.NET's "missing". Subtracting 1 in int64 would give -1, which Gather reads as the last
        // symbol; the graph subtracts in uint32, so it wraps to 2^32 - 1 and ONNX Runtime refuses the index.
        var model = BatchNormFolding.Fold(ExportTestModels.Random("post-bn-residual", seed: 35));
        var c = model.Config;
        string onnx = Path.Combine(_dir, "key.onnx");
        OnnxExport.Save(onnx, model, new OnnxExportOptions { KeyInput = true });
        int[] keys = Enumerable.Repeat(1, 2 * c.ContextLength).ToArray();
        Assert.That(RunOnnxRuntime(onnx, keys, null, 2, c.ContextLength, keyInput: true)[OnnxExport.LogitsOutput].Data, Has.Length.EqualTo(2 * c.OutputWidth));

        keys[c.ContextLength + 1] = 0;
        var ex = Assert.Throws<OnnxRuntimeException>(() => RunOnnxRuntime(onnx, keys, null, 2, c.ContextLength, keyInput: true));
        TestContext.Out.WriteLine(ex!.Message);
        Assert.That(ex.Message, Does.Contain("out of").Or.Contain("bounds"));
    }

    [Test]
    public void KeyInput_OfADenseModel_IsRefused()
    {
        var model = ExportTestModels.Random("dense-bn-residual");
        var ex = Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(model, new OnnxExportOptions { KeyInput = true }));
        Assert.That(ex!.Message, Does.Contain("dense features"));
        Assert.That(ex.ParamName, Is.EqualTo("options"));
    }

    [Test]
    public void Export_IsDeterministic_AndDeclaresIrVersion8AndOpset13()
    {
        var model = ExportTestModels.Random("pre-bn-residual");
        var first = OnnxExport.ToBytes(model);
        Assert.That(OnnxExport.ToBytes(model), Is.EqualTo(first));
        Assert.That(OnnxExport.ToBytes(model, new OnnxExportOptions()), Is.EqualTo(first), "default options write the plain graph");
        // ModelProto field 1 (ir_version, varint) comes first: tag 0x08, value 8.
        Assert.That(first[..2], Is.EqualTo(new byte[] { 0x08, 0x08 }));
        // OperatorSetIdProto {domain "", version 13} as the last field 8 of the model.
        Assert.That(first[^6..], Is.EqualTo(new byte[] { 0x42, 0x04, 0x0a, 0x00, 0x10, 0x0d }));
    }

    [Test]
    public void Export_RefusesAModelMissingATensor()
    {
        var model = ExportTestModels.Random("post-bn-residual");
        var broken = model with { Tensors = model.Tensors.Where(p => p.Key != "hidden.1.norm.running_mean").ToDictionary() };
        var ex = Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(broken));
        Assert.That(ex!.Message, Does.Contain("tensor 'hidden.1.norm.running_mean' is missing"));
    }

    /// <summary>Row-wise softmax in double of the C# logits [rows, width].</summary>
    internal static float[] Softmax(float[] logits, int width)
    {
        var p = new float[logits.Length];
        for (int r = 0; r < logits.Length / width; r++)
        {
            var row = logits.AsSpan(r * width, width);
            double max = double.NegativeInfinity, sum = 0;
            foreach (float v in row) max = Math.Max(max, v);
            foreach (float v in row) sum += Math.Exp(v - max);
            for (int j = 0; j < width; j++) p[r * width + j] = (float)(Math.Exp(row[j] - max) / sum);
        }
        return p;
    }

    /// <summary>
    /// Runs the model in ONNX Runtime (CPU, one thread) on ids (int64, or uint32 key values for a key-input graph) or
    /// dense features [rows, width], and returns every output the graph declares, in declaration order, with its dims.
    /// </summary>
    internal static Dictionary<string, (long[] Dims, float[] Data)> RunOnnxRuntime(string onnx, int[]? ids, float[]? features, int rows, int width, bool keyInput = false)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(onnx, options);
        long[] shape = [rows, width];
        using var input = ids is null ? OrtValue.CreateTensorValueFromMemory(features!, shape)
            : keyInput ? OrtValue.CreateTensorValueFromMemory(ids.Select(id => checked((uint)id)).ToArray(), shape)
            : OrtValue.CreateTensorValueFromMemory(ids.Select(id => (long)id).ToArray(), shape);
        string inputName = ids is null ? OnnxExport.FeaturesInput : OnnxExport.IdsInput;
        Assert.That(session.InputNames, Is.EqualTo(new[] { inputName }));
        var declared = session.InputMetadata[inputName];
        Assert.That(declared.ElementDataType, Is.EqualTo(ids is null ? TensorElementType.Float : keyInput ? TensorElementType.UInt32 : TensorElementType.Int64));
        Assert.That(declared.Dimensions, Is.EqualTo(new[] { -1, width }), "a dynamic batch axis, then the row width");

        using var runOptions = new RunOptions();
        var outputNames = session.OutputNames;
        using var results = session.Run(runOptions, [inputName], [input], outputNames);
        var outputs = new Dictionary<string, (long[], float[])>();
        for (int i = 0; i < outputNames.Count; i++)
        {
            var info = results[i].GetTensorTypeAndShape();
            Assert.That(info.ElementDataType, Is.EqualTo(TensorElementType.Float), outputNames[i]);
            outputs[outputNames[i]] = (info.Shape, results[i].GetTensorDataAsSpan<float>().ToArray());
        }
        return outputs;
    }
}
