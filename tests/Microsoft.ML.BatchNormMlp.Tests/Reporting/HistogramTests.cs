using BatchNormMlp.Samples.Reporting;
using Microsoft.ML.BatchNormMlp.Training.Diagnostics;

namespace Microsoft.ML.BatchNormMlp.Tests.Reporting;

public class HistogramTests
{
    [Test]
    public void Compute_CountsLikeTorchHistogram_MaxFallsInTheLastBin_NonFiniteAndOutOfRangeLeftOut()
    {
        float[] values = [0f, 0.1f, 0.5f, 0.99f, 1f, float.NaN, float.PositiveInfinity, -0.5f, 1.5f];
        var h = HistogramSeries.Compute("x", values, 2, 0, 1);
        Assert.That(h.Edges, Is.EqualTo(new[] { 0, 0.5, 1 }));
        Assert.That(h.Heights, Is.EqualTo(new double[] { 2, 3 }));
    }

    [Test]
    public void Compute_DensityIntegratesToOne()
    {
        float[] values = [0f, 0.1f, 0.5f, 0.99f, 1f];
        var h = HistogramSeries.Compute("x", values, 4, 0, 2, HistogramScale.Density);
        // Bins of width 0.5 hold {0, 0.1}, {0.5, 0.99}, {1}, {}: counts 2, 2, 1, 0 over 5 values, divided by 5 * 0.5.
        Assert.That(h.Heights, Is.EqualTo(new[] { 0.8, 0.8, 0.4, 0 }).Within(1e-12));
        Assert.That(h.Heights.Sum() * 0.5, Is.EqualTo(1).Within(1e-12));
    }

    [Test]
    public void Range_SpansAllArraysAndSurvivesConstantsAndNaN()
    {
        Assert.That(Histogram.Range([1f, float.NaN, 3f], [-2f, float.NegativeInfinity]), Is.EqualTo((-2.0, 3.0)));
        Assert.That(Histogram.Range([4f, 4f]), Is.EqualTo((3.5, 4.5)));
        Assert.That(Histogram.Range([float.NaN]), Is.EqualTo((0.0, 1.0)));
    }

    [Test]
    public void Compute_RejectsBadRangesAndBinCountsWithTheirValues()
    {
        var range = Assert.Throws<ArgumentException>(() => HistogramSeries.Compute("layer 3", [1f], 10, 2, 2));
        Assert.That(range!.Message, Does.StartWith("Histogram 'layer 3': the range [2, 2] must be finite with max above min."));
        var bins = Assert.Throws<ArgumentOutOfRangeException>(() => HistogramSeries.Compute("x", [1f], 0, 0, 1));
        Assert.That(bins!.Message, Does.StartWith("A histogram needs at least one bin and at most 10000; got 0."));
        var edges = Assert.Throws<ArgumentException>(() => new HistogramSeries("h", [0, 1], [1, 2]));
        Assert.That(edges!.Message, Does.StartWith("Histogram 'h' has 2 bins but 2 edges; it needs one edge more than bins."));
    }
}
