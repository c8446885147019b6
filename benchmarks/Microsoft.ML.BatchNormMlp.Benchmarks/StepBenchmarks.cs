using BenchmarkDotNet.Attributes;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Benchmarks;

/// <summary>
/// One training step of each preset (sampling, forward, loss, backward with the fused optimizer update) through
/// <see cref="Trainer"/>, on <see cref="StepBenchmark.Session"/>'s synthetic data; 100 steps per invocation so that
/// a Trainer's per-call setup is spread thin. The quick equivalent: <c>-- step --preset NAME</c>.
/// </summary>
[MemoryDiagnoser]
public class StepBenchmarks
{
    private const int Steps = 100;
    private StepBenchmark.Session _session = null!;

    [Params("bn1", "mlp3", "deep50", "deep50-res")]
    public string Preset { get; set; } = "bn1";

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        _session = new StepBenchmark.Session(Preset, Threads);
        _session.Train(Steps);
    }

    [Benchmark(OperationsPerInvoke = Steps)]
    public double TrainingStep() => _session.Train(Steps);
}
