using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Benchmarks;

/// <summary>
/// <c>step --preset NAME [--steps N] [--threads N] [--repeats N] [--warmup N] [--engine managed|torchsharp] [--dropout X] [--csv] [--breakdown]</c>: whole training steps
/// through <see cref="StepBenchmark"/> (the routine the CLI's bench command calls), plus an optional per-phase
/// breakdown of one step (forward, loss, backward with the fused optimizer update) for profiling.
/// </summary>
internal static class StepQuick
{
    public static int Run(string[] args)
    {
        string presets = QuickArguments.Get(args, "--preset") ?? "bn1";
        int steps = QuickArguments.GetInt(args, "--steps", 1000);
        int threads = QuickArguments.GetInt(args, "--threads", 1);
        int repeats = QuickArguments.GetInt(args, "--repeats", 5);
        bool csv = args.Contains("--csv");
        int warmup = QuickArguments.GetInt(args, "--warmup", 2000);
        var engine = QuickArguments.Get(args, "--engine") == "torchsharp" ? TrainingEngine.TorchSharp : TrainingEngine.Managed;
        float? dropout = QuickArguments.Get(args, "--dropout") is { } rate
            ? float.TryParse(rate, NumberStyles.Float, CultureInfo.InvariantCulture, out float p) && p >= 0 && p < 1 ? p : throw new ArgumentException($"--dropout must be in [0, 1); got '{rate}'.")
            : null;
        double peak = PeakFlops.Measure();
        if (csv) Console.WriteLine("preset,threads,batch,us,wall_us,cpu_us,process_cpu_us,steps_per_s,gflops,peak_gflops,thread_bytes_per_step,total_bytes_per_step");
        else Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}; peak {peak:F1} GFLOP/s (1 thread)");
        foreach (string name in presets.Split(','))
        {
            var r = StepBenchmark.Run(name, steps, threads, repeats, warmupSteps: warmup, engine: engine, dropout: dropout);
            if (csv)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Preset},{r.Threads},{r.Batch},{r.Microseconds:F2},{r.WallMicroseconds:F2},{r.CpuMicroseconds:F2},{r.ProcessCpuMicroseconds:F2},{r.StepsPerSecond:F0},{r.GigaflopsPerSecond:F1},{peak:F1},{r.ThreadBytesPerStep:F2},{r.TotalBytesPerStep:F2}"));
            else
                Console.WriteLine($"{r.Preset,-10} {r.Threads} thr  {r.Microseconds,8:F2} us/step (wall {r.WallMicroseconds:F2}, thread cpu {r.CpuMicroseconds:F2}, process cpu {r.ProcessCpuMicroseconds:F2})  "
                    + $"{r.StepsPerSecond,7:F0} steps/s  {r.GigaflopsPerSecond,6:F1} GFLOP/s ({100 * r.GigaflopsPerSecond / peak:F0}% of peak)  "
                    + $"alloc {r.ThreadBytesPerStep:F2} B/step (thread), {r.TotalBytesPerStep:F2} B/step (all threads)  loss {r.LastLoss:F3}");
            if (args.Contains("--breakdown")) Breakdown(name, threads);
        }
        return 0;
    }

    // Forward / loss / backward+update of the same steps Trainer takes, timed apart (thread CPU time).
    private static void Breakdown(string name, int threads)
    {
        var preset = Presets.Get(name);
        var net = new MlpNetwork(preset.Config) { Threads = threads };
        Initialization.Initialize(net, preset.Init, new Rng(1));
        var c = preset.Config;
        const int B = 32;
        var rng = new Rng(7);
        var ids = new int[B * c.ContextLength]; var labels = new int[B];
        var sgd = new Sgd(net.Parameters);
        double sample = 0, fwd = 0, loss = 0, bwd = 0;
        int counted = 0;
        const int N = 3000;
        var warm = Stopwatch.StartNew();   // past tiered compilation, as StepBenchmark does
        for (int s = 0; ; s++)
        {
            bool timed = warm.Elapsed.TotalSeconds >= StepBenchmark.WarmupSeconds;
            if (timed && ++counted > N) break;
            double t0 = ThreadCpuClock.NowMicroseconds();
            for (int i = 0; i < ids.Length; i++) ids[i] = rng.NextInt(c.VocabularySize);
            for (int i = 0; i < B; i++) labels[i] = rng.NextInt(c.OutputWidth);
            double t1 = ThreadCpuClock.NowMicroseconds();
            var logits = net.Forward(NetworkInput.Ids(ids), B, training: true);
            double t2 = ThreadCpuClock.NowMicroseconds();
            var ws = net.GetWorkspace(B);
            SoftmaxCrossEntropy.Forward(logits, labels, ws.DLogits, B, c.OutputWidth);
            double t3 = ThreadCpuClock.NowMicroseconds();
            sgd.BeginStep(0.01f);
            net.Backward(ws.DLogits, sgd);
            sgd.EndStep();
            double t4 = ThreadCpuClock.NowMicroseconds();
            if (timed) { sample += t1 - t0; fwd += t2 - t1; loss += t3 - t2; bwd += t4 - t3; }
        }
        Console.WriteLine($"  breakdown (thread cpu us/step, clock reads included): random ids {sample / N:F2}  forward {fwd / N:F2}  loss {loss / N:F2}  backward+sgd {bwd / N:F2}");
    }
}
