using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Training;

/// <summary>The step benchmark's bookkeeping (not its timings: benchmarks are never timed unit tests).</summary>
public class StepBenchmarkTests
{
    [TestCase("bn1", 3 * 2.0 * 32 * (30 * 200 + 200 * 27))]
    [TestCase("mlp3", 3 * 2.0 * 32 * (48 * 256 + 256 * 512 + 512 * 1024 + 1024 * 512 + 512 * 256 + 256 * 27))]
    [TestCase("deep50", 3 * 2.0 * 32 * (48 * 256 + 49 * 256 * 256 + 256 * 27))]
    public void GemmFlops_CountsForwardInputAndWeightGradientProductsOfEveryLinear(string preset, double expected)
        => Assert.That(StepBenchmark.GemmFlops(new MlpNetwork(Presets.Get(preset).Config), 32), Is.EqualTo(expected));

    [Test]
    public void Run_TrainsThePresetAndReportsPerStepFigures()
    {
        var r = StepBenchmark.Run("bn1", steps: 20, repeats: 3, warmupSteps: 20, warmupSeconds: 0);
        Assert.That(r.Preset, Is.EqualTo("bn1"));
        Assert.That(r.Batch, Is.EqualTo(32));
        Assert.That(r.Repeats, Is.EqualTo(3));
        Assert.That(r.WallMicroseconds, Is.GreaterThan(0).And.LessThan(1e6));
        Assert.That(r.Microseconds, Is.GreaterThan(0).And.LessThan(1e6));
        Assert.That(r.ThreadBytesPerStep, Is.GreaterThanOrEqualTo(0));
        // Synthetic labels are uniform: the loss starts near ln 27 and, after 120 steps of lr 0.1, is still near it.
        Assert.That(r.LastLoss, Is.InRange(Math.Log(27) - 1, Math.Log(27) + 1));
        Assert.That(r.GigaflopsPerSecond, Is.EqualTo(r.GemmFlopsPerStep / r.Microseconds / 1e3).Within(1e-9));
    }

    [Test]
    public void Session_TimesStepsOnly_WithTheDropoutAskedFor()
    {
        // quality calibrates after training: a pass over the whole training set, which the timed calls must not include.
        Assert.That(Presets.Get("quality").Training.CalibrateAfterTraining, Is.True);
        using var session = new StepBenchmark.Session("quality");
        Assert.That(session.Options.CalibrateAfterTraining, Is.False);
        Assert.That(session.Options.Dropout, Is.EqualTo(Presets.Get("quality").Training.Dropout));
        using var dropped = new StepBenchmark.Session("bn1", dropout: 0.2f);
        Assert.That(dropped.Options.Dropout, Is.EqualTo(0.2f));
    }
}
