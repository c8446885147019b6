using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.BatchNormMlp.Training;

namespace BatchNormMlp.Cli.Commands;

/// <summary>
/// <c>bnmlp bench</c>: the speed of one training step of a preset (forward, backward, optimizer) on synthetic data of
/// the preset's shapes: microseconds per step, steps per second and bytes allocated per step after warm-up.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        Option<string> preset = CommonOptions.Choice("--preset", "bn1", [.. Presets.Names], "The experiment whose step to time");
        Option<int> steps = CommonOptions.Int("--steps", 2000, 1, 100_000_000, "Timed steps");
        Option<int> warmup = CommonOptions.Int("--warmup", 0, 0, 100_000_000, "Untimed steps first; 0: as many as timed, at least 200");
        Option<int> threads = CommonOptions.Int("--threads", 1, 1, 256, "Threads for the matrix products");
        var command = new Command("bench", "Time training steps of a preset on synthetic data: us per step, steps per second, bytes allocated per step.")
        {
            preset, steps, warmup, threads,
        };
        CommandAction.Set(command, (parse, output, figures) =>
        {
            int n = parse.GetValue(steps);
            int w = parse.GetValue(warmup) is > 0 and int given ? given : Math.Max(200, n);
            StepTiming.Result r;
            try
            {
                r = StepTiming.Run(parse.GetRequiredValue(preset), n, w, parse.GetValue(threads));
            }
            catch (NonFiniteLossException e)
            {
                throw new UserErrorException($"The synthetic run diverged, so its timing means nothing: {e.Diagnosis}");
            }
            output.Line($"preset {r.Preset}: {r.Parameters} parameters, batch {r.BatchSize}, {r.Threads} thread(s), {r.WarmupSteps} warm-up steps, {r.Steps} timed steps (synthetic data)");
            output.Table(["", "value"],
            [
                ["us per step", F(r.MicrosecondsPerStep, "F2")],
                ["steps per second", F(r.StepsPerSecond, "F0")],
                ["bytes allocated per step (step thread)", F(r.BytesPerStep, "F2")],
                ["bytes allocated per step (all threads)", F(r.AllThreadsBytesPerStep, "F2")],
            ]);
            figures["preset"] = r.Preset;
            figures["steps"] = r.Steps;
            figures["warmupSteps"] = r.WarmupSteps;
            figures["threads"] = r.Threads;
            figures["batchSize"] = r.BatchSize;
            figures["parameters"] = r.Parameters;
            figures["microsecondsPerStep"] = r.MicrosecondsPerStep;
            figures["stepsPerSecond"] = r.StepsPerSecond;
            figures["bytesPerStep"] = r.BytesPerStep;
            figures["allThreadsBytesPerStep"] = r.AllThreadsBytesPerStep;
        });
        return command;
    }

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
