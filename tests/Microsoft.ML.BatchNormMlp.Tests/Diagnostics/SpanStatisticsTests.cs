using Microsoft.ML.BatchNormMlp.Training.Diagnostics;

namespace Microsoft.ML.BatchNormMlp.Tests.Diagnostics;

public class SpanStatisticsTests
{
    [Test]
    public void Std_IsTheSampleStandardDeviation_AsTorch()
    {
        float[] x = [1, 2, 3, 4];
        Assert.That(SpanStatistics.Mean(x), Is.EqualTo(2.5));
        Assert.That(SpanStatistics.Std(x), Is.EqualTo(Math.Sqrt(5.0 / 3)).Within(1e-15));   // torch.tensor([1.,2,3,4]).std() = 1.2910
        Assert.That(double.IsNaN(SpanStatistics.Std([7f])), Is.True);
    }

    [Test]
    public void Saturation_CountsValuesStrictlyBeyondTheThreshold()
    {
        float[] x = [0.97f, -0.975f, 0.99f, 0.1f, -1f];
        Assert.That(SpanStatistics.Saturation(x), Is.EqualTo(3 / 5.0));
    }

    [Test]
    public void NeuronVarianceMean_AveragesPopulationVariancesOverColumns()
    {
        // Columns (1, 3) and (0, 4): variances 1 and 4 with the n denominator, mean 2.5.
        float[] x = [1, 0, 3, 4];
        Assert.That(SpanStatistics.NeuronVarianceMean(x, 2, 2), Is.EqualTo(2.5));
        var e = Assert.Throws<ArgumentException>(() => SpanStatistics.NeuronVarianceMean(x, 3, 2));
        Assert.That(e!.Message, Does.Contain("[3, 2]"));
    }
}
