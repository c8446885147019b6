using System.Diagnostics;
using Microsoft.ML.BatchNormMlp;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;

namespace BatchNormMlp.Cli;

/// <summary>
/// Times training steps of a preset on synthetic data, for <c>bnmlp bench</c>. A stand-in: the library is getting
/// its own step benchmark (Training/StepBenchmark.cs); when it lands, <c>BenchCommand</c> calls that instead and this
/// file goes. Kept apart so that the swap touches one call.
/// </summary>
internal static class StepTiming
{
    private const int SyntheticRows = 4096;

    public sealed record Result(string Preset, int Steps, int WarmupSteps, int Threads, int BatchSize, long Parameters,
        double MicrosecondsPerStep, double StepsPerSecond, double BytesPerStep, double AllThreadsBytesPerStep);

    /// <summary>
    /// Runs <paramref name="warmup"/> steps (JIT tiering, workspaces, optimizer state), then times
    /// <paramref name="steps"/> more. Bytes are counted on the calling thread (the step loop) and, apart, on all threads.
    /// </summary>
    public static Result Run(string presetName, int steps, int warmup, int threads)
    {
        Preset preset = Presets.Get(presetName);
        MlpConfig config = preset.Config;
        var rng = new Rng(12345);
        Dataset data;
        if (config.IsDense)
        {
            var features = new float[SyntheticRows * config.DenseInputWidth]; // [rows, F]
            for (int i = 0; i < features.Length; i++) features[i] = rng.NextGaussian();
            data = Dataset.FromDense(features, config.DenseInputWidth, Labels(rng, config.OutputWidth));
        }
        else
        {
            var contexts = new int[SyntheticRows * config.ContextLength]; // [rows, ctx]
            for (int i = 0; i < contexts.Length; i++) contexts[i] = rng.NextInt(config.VocabularySize);
            data = Dataset.FromContexts(contexts, config.ContextLength, Labels(rng, config.OutputWidth));
        }

        var network = new MlpNetwork(config);
        Initialization.Initialize(network, preset.Init, new Rng(1));
        TrainingOptions options = preset.Training with
        {
            Steps = warmup + steps, Threads = threads, ProgressEvery = warmup, ValidationEvery = 0, CheckpointPath = null, CheckpointEvery = 0,
            CalibrateAfterTraining = false,
        };
        var clock = new Clock(warmup, warmup + steps);
        new Trainer(network, options).Train(data, null, clock);
        double seconds = clock.Seconds;
        return new Result(preset.Name, steps, warmup, threads, options.BatchSize, network.ParameterCount,
            seconds * 1e6 / steps, steps / seconds, (double)clock.ThreadBytes / steps, (double)clock.AllBytes / steps);
    }

    private static int[] Labels(Rng rng, int classes)
    {
        var labels = new int[SyntheticRows];
        for (int i = 0; i < labels.Length; i++) labels[i] = rng.NextInt(classes);
        return labels;
    }

    // Called synchronously on the training thread at the end of step `start` and of the last step.
    private sealed class Clock(int start, int end) : IProgress<TrainingProgress>
    {
        private long _t0, _b0, _a0;

        public double Seconds { get; private set; }
        public long ThreadBytes { get; private set; }
        public long AllBytes { get; private set; }

        public void Report(TrainingProgress p)
        {
            if (p.Step == start)
            {
                _b0 = GC.GetAllocatedBytesForCurrentThread();
                _a0 = GC.GetTotalAllocatedBytes(precise: true);
                _t0 = Stopwatch.GetTimestamp();
            }
            else if (p.Step == end)
            {
                long t1 = Stopwatch.GetTimestamp();
                ThreadBytes = GC.GetAllocatedBytesForCurrentThread() - _b0;
                AllBytes = GC.GetTotalAllocatedBytes(precise: true) - _a0;
                Seconds = Stopwatch.GetElapsedTime(_t0, t1).TotalSeconds;
            }
        }
    }
}
