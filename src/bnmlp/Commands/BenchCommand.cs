using System.CommandLine;
using System.Globalization;
using Microsoft.ML.BatchNormMlp;
using Microsoft.ML.BatchNormMlp.Training;

namespace BatchNormMlp.Cli.Commands;

/// <summary>
/// <c>bnmlp bench</c>: the speed of one training step of a preset (sampling, forward, loss, backward with the
/// optimizer update) on synthetic data of the preset's shapes, through the library's <see cref="StepBenchmark"/>
/// (the same routine as the benchmarks project): microseconds per step, steps per second, GEMM GFLOP/s and bytes
/// allocated per step in steady state.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        Option<string> preset = CommonOptions.Choice("--preset", "bn1", [.. Presets.Names], "The experiment whose step to time");
        Option<int> steps = CommonOptions.Int("--steps", 2000, 1, 100_000_000, "Timed steps per repeat");
        Option<int> repeats = CommonOptions.Int("--repeats", 3, 1, 1000, "Timed repeats; the figures are their medians");
        Option<int> warmup = CommonOptions.Int("--warmup", 2000, 0, 100_000_000, "Untimed warm-up steps per warm-up round");
        Option<double?> warmupSeconds = CommonOptions.Number("--warmup-seconds", 0, 3600, "Warm up for at least this long (tiered JIT must promote the hot kernels; default 2)");
        Option<int> threads = CommonOptions.Int("--threads", 1, 1, 256, "Threads for the matrix products");
        Option<string> engine = CommonOptions.Engine("The engine to time: auto and managed time the managed engine, torchsharp libtorch on the CPU");
        var command = new Command("bench", "Time training steps of a preset on synthetic data: us per step, steps per second, GFLOP/s, bytes allocated per step.")
        {
            preset, steps, repeats, warmup, warmupSeconds, threads, engine,
        };
        CommandAction.Set(command, (parse, output, figures) =>
        {
            StepBenchmarkResult r;
            try
            {
                r = StepBenchmark.Run(parse.GetRequiredValue(preset), parse.GetValue(steps), parse.GetValue(threads), parse.GetValue(repeats),
                    Math.Max(1, parse.GetValue(warmup)), parse.GetValue(warmupSeconds) ?? StepBenchmark.WarmupSeconds,
                    engine: CommonOptions.EngineValue(parse.GetRequiredValue(engine)) == TrainingEngine.TorchSharp ? TrainingEngine.TorchSharp : TrainingEngine.Managed);
            }
            catch (EngineUnavailableException e)
            {
                throw new UserErrorException(e.Message);
            }
            catch (NonFiniteLossException e)
            {
                throw new UserErrorException($"The synthetic run diverged, so its timing means nothing: {e.Diagnosis}");
            }
            string clock = r.Threads == 1 ? "thread CPU time" : "wall time";
            output.Line($"preset {r.Preset}: batch {r.Batch}, {r.Threads} thread(s), {r.Repeats} x {r.Steps} timed steps after warm-up (synthetic data; {clock})");
            output.Table(["", "value"],
            [
                ["us per step", F(r.Microseconds, "F2")],
                ["steps per second", F(r.StepsPerSecond, "F0")],
                ["GEMM GFLOP/s", F(r.GigaflopsPerSecond, "F1")],
                ["wall us per step", F(r.WallMicroseconds, "F2")],
                ["bytes allocated per step (step thread)", F(r.ThreadBytesPerStep, "F2")],
                ["bytes allocated per step (all threads)", F(r.TotalBytesPerStep, "F2")],
            ]);
            figures["preset"] = r.Preset;
            figures["engine"] = parse.GetRequiredValue(engine) == "torchsharp" ? "torchsharp" : "managed";
            figures["steps"] = r.Steps;
            figures["repeats"] = r.Repeats;
            figures["threads"] = r.Threads;
            figures["batchSize"] = r.Batch;
            figures["microsecondsPerStep"] = r.Microseconds;
            figures["wallMicrosecondsPerStep"] = r.WallMicroseconds;
            figures["stepsPerSecond"] = r.StepsPerSecond;
            figures["gigaflopsPerSecond"] = r.GigaflopsPerSecond;
            figures["bytesPerStep"] = r.ThreadBytesPerStep;
            figures["allThreadsBytesPerStep"] = r.TotalBytesPerStep;
        });
        return command;
    }

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
