using System.Diagnostics;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>What <see cref="StepBenchmark.Run"/> measured for one preset.</summary>
/// <param name="Preset">The preset's name.</param>
/// <param name="Threads">Threads handed to the GEMMs.</param>
/// <param name="Batch">Rows per step.</param>
/// <param name="Steps">Steps per timed repeat.</param>
/// <param name="Repeats">Timed repeats (figures are their medians).</param>
/// <param name="WallMicroseconds">Wall time per step (median of the repeats).</param>
/// <param name="CpuMicroseconds">CPU time of the calling thread per step (median); NaN where unavailable. With one
/// thread it is the figure other processes on a shared machine do not inflate.</param>
/// <param name="ProcessCpuMicroseconds">CPU time of the whole process per step (median): with several threads, the
/// work of the pool's workers too.</param>
/// <param name="ThreadBytesPerStep">Bytes the calling thread allocated per step in steady state.</param>
/// <param name="TotalBytesPerStep">Bytes every thread allocated per step in steady state.</param>
/// <param name="GemmFlopsPerStep">Floating-point operations of the step's GEMMs (forward, dX and dW of every Linear).</param>
/// <param name="LastLoss">The minibatch loss of the last step (a sanity check that training ran).</param>
internal sealed record StepBenchmarkResult(string Preset, int Threads, int Batch, int Steps, int Repeats,
    double WallMicroseconds, double CpuMicroseconds, double ProcessCpuMicroseconds,
    double ThreadBytesPerStep, double TotalBytesPerStep, double GemmFlopsPerStep, double LastLoss)
{
    /// <summary>Per-step time the figures are based on: thread CPU time with one thread (robust to other load), wall time otherwise.</summary>
    public double Microseconds => Threads == 1 && double.IsFinite(CpuMicroseconds) ? CpuMicroseconds : WallMicroseconds;

    public double StepsPerSecond => 1e6 / Microseconds;

    /// <summary>GEMM FLOPs per step over the whole step's time: how much of the machine the step as a whole uses.</summary>
    public double GigaflopsPerSecond => GemmFlopsPerStep / Microseconds / 1e3;
}

/// <summary>
/// Times whole training steps of a preset through <see cref="Trainer.Train"/> itself (sampling the batch, forward,
/// loss, backward with the fused optimizer update), on a synthetic data set the shape of the preset's real one:
/// one routine for the benchmarks project and the CLI. Warm-up runs first (tiered JIT, workspaces), at least
/// <see cref="WarmupSeconds"/>; each measured
/// repeat is one <c>Train</c> call of <c>steps</c> steps on the same network. Steady-state allocation is the
/// difference between a run of 2·steps and one of steps, divided by steps, so the per-call setup of <c>Train</c>
/// (a few small arrays) cancels out and only what the steps themselves allocate remains.
/// </summary>
internal static class StepBenchmark
{
    /// <summary>Rows of the synthetic character data: about names.txt's training split (182k contexts), so that the
    /// sampled rows come from a table of the real size.</summary>
    public const int CharacterRows = 182_625;

    /// <summary>Minimum warm-up time before measuring.</summary>
    public const double WarmupSeconds = 2.0;

    /// <summary>A preset's network on synthetic data, ready to take timed steps (also what BenchmarkDotNet drives).</summary>
    internal sealed class Session : IDisposable
    {
        private readonly Dataset _data;
        private readonly ITrainingEngine _engine;   // built once (TorchSharp: modules and optimizer), driven by one Trainer per call

        public Session(string presetName, int threads = 1, ulong seed = 42, TrainingEngine engine = TrainingEngine.Managed, float? dropout = null)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
            Preset = Presets.Get(presetName);
            Network = new MlpNetwork(Preset.Config) { Threads = threads };
            Initialization.Initialize(Network, Preset.Init, new Rng(seed));
            _data = SyntheticData(Preset.Config, Preset.Config.IsDense ? 4000 : CharacterRows, seed);
            // A constant rate, so that no measured step depends on where a schedule is; the preset's optimizer otherwise.
            // No calibration after each call: it is a forward pass over the whole training set, not a step (for
            // quality it cost more than the 200 steps it followed). A preset with an EMA updates its average every
            // step, as a run does, but does not swap it in at the end of each call (which would recalibrate).
            Options = Preset.Training with
            {
                LearningRate = new ConstantSchedule(Preset.Training.LearningRate.At(0, 1)), Threads = threads, ValidationEvery = 0, Seed = seed, Engine = engine,
                Dropout = dropout ?? Preset.Training.Dropout, CalibrateAfterTraining = false, FinishWithAverage = false,
            };
            _engine = TrainingEngines.Create(Network, Options);
        }

        public Preset Preset { get; }

        public MlpNetwork Network { get; }

        public TrainingOptions Options { get; }

        /// <summary>Takes <paramref name="steps"/> steps through a fresh <see cref="Trainer"/> on the same network; returns the last batch loss.</summary>
        public double Train(int steps) => new Trainer(Network, Options with { Steps = steps }, null, _engine).Train(_data).LastBatchLoss;

        public void Dispose() => _engine.Dispose();
    }

    /// <summary>Times <paramref name="repeats"/> x <paramref name="steps"/> steps of <paramref name="presetName"/> on <paramref name="engine"/>, with <paramref name="dropout"/> (null: the preset's rate).</summary>
    public static StepBenchmarkResult Run(string presetName, int steps = 1000, int threads = 1, int repeats = 5, int warmupSteps = 2000, double warmupSeconds = WarmupSeconds, ulong seed = 42,
        TrainingEngine engine = TrainingEngine.Managed, float? dropout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        using var session = new Session(presetName, threads, seed, engine, dropout);

        // Warm-up by time as well as by steps: tiered compilation promotes the hot kernels on a background thread,
        // which a loaded machine starves; measured before that, a bn1 step ran at half speed.
        double loss;
        var warm = Stopwatch.StartNew();
        do loss = session.Train(warmupSteps); while (warm.Elapsed.TotalSeconds < warmupSeconds);
        // Steady-state allocation: what 2·steps allocate beyond what steps allocate.
        long t0 = GC.GetAllocatedBytesForCurrentThread(), a0 = GC.GetTotalAllocatedBytes(precise: true);
        session.Train(steps);
        long t1 = GC.GetAllocatedBytesForCurrentThread(), a1 = GC.GetTotalAllocatedBytes(precise: true);
        session.Train(2 * steps);
        long t2 = GC.GetAllocatedBytesForCurrentThread(), a2 = GC.GetTotalAllocatedBytes(precise: true);
        double threadBytes = Math.Max(0, (t2 - t1) - (t1 - t0)) / (double)steps;
        double totalBytes = Math.Max(0, (a2 - a1) - (a1 - a0)) / (double)steps;

        var wall = new double[repeats]; var cpu = new double[repeats]; var process = new double[repeats];
        using var self = Process.GetCurrentProcess();
        for (int r = 0; r < repeats; r++)
        {
            self.Refresh();
            var p0 = self.TotalProcessorTime;
            double c0 = ThreadCpuClock.NowMicroseconds();
            long w0 = Stopwatch.GetTimestamp();
            loss = session.Train(steps);
            wall[r] = Stopwatch.GetElapsedTime(w0).TotalMicroseconds / steps;
            cpu[r] = (ThreadCpuClock.NowMicroseconds() - c0) / steps;
            self.Refresh();
            process[r] = (self.TotalProcessorTime - p0).TotalMicroseconds / steps;
        }
        return new StepBenchmarkResult(session.Preset.Name, threads, session.Options.BatchSize, steps, repeats, Median(wall), Median(cpu), Median(process),
            threadBytes, totalBytes, GemmFlops(session.Network, session.Options.BatchSize), loss);
    }

    /// <summary>2·B·in·out for each of a Linear's three products (forward Y = X·Wᵀ, dX = dY·W, dW = dYᵀ·X).</summary>
    public static double GemmFlops(MlpNetwork network, int batch)
    {
        double flops = 0;
        foreach (var lin in network.Hidden) flops += 3 * 2.0 * batch * lin.Inputs * lin.Outputs;
        flops += 3 * 2.0 * batch * network.Output.Inputs * network.Output.Outputs;
        return flops;
    }

    private static Dataset SyntheticData(MlpConfig c, int rows, ulong seed)
    {
        var rng = new Rng(seed ^ 0x5EED);
        var labels = new int[rows];
        for (int i = 0; i < rows; i++) labels[i] = rng.NextInt(c.OutputWidth);
        Dataset data;
        if (c.IsDense)
        {
            var features = new float[rows * c.DenseInputWidth];
            for (int i = 0; i < features.Length; i++) features[i] = rng.NextFloat() * 2 - 1;
            data = Dataset.FromDense(features, c.DenseInputWidth, labels);
        }
        else
        {
            var contexts = new int[rows * c.ContextLength];
            for (int i = 0; i < contexts.Length; i++) contexts[i] = rng.NextInt(c.VocabularySize);
            data = Dataset.FromContexts(contexts, c.ContextLength, labels);
        }
        return data;
    }

    private static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
