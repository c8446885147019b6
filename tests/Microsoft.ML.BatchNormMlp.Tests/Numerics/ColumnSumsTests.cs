using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests.Numerics;

public class ColumnSumsTests
{
    [Test]
    public void MatchesReference_OnEveryPath_AndPathsAreBitIdentical([Values] bool accumulate)
    {
        var rng = new Rng(31);
        foreach (var (rows, cols) in new[] { (0, 5), (1, 1), (3, 15), (32, 16), (32, 17), (32, 200), (200, 100), (7, 1024) })
        {
            float[] x = GemmTests.Random(rng, rows * cols), start = GemmTests.Random(rng, cols);
            float[]? previous = null;
            foreach (var level in new[] { SimdLevel.Scalar, SimdLevels.Best })
            {
                var sums = (float[])start.Clone();
                ColumnSums.Add(x, rows, cols, sums, accumulate, level);
                for (int j = 0; j < cols; j++)
                {
                    double expected = accumulate ? start[j] : 0;
                    for (int i = 0; i < rows; i++) expected += x[i * cols + j];
                    Assert.That(sums[j], Is.EqualTo(expected).Within(1e-5 * (1 + rows)), $"{level} rows={rows} cols={cols} [{j}]");
                }
                if (previous != null) Assert.That(sums, Is.EqualTo(previous), $"paths differ: rows={rows} cols={cols}");
                previous = sums;
            }
        }
    }

    [Test]
    public void TooShortSpans_ThrowNamingThem()
    {
        var ex = Assert.Throws<ArgumentException>(() => ColumnSums.Add(new float[5], 2, 3, new float[3]));
        Assert.That(ex!.Message, Does.StartWith("Span 'x' holds 5 floats but the batch needs 6."));
        ex = Assert.Throws<ArgumentException>(() => ColumnSums.Add(new float[6], 2, 3, new float[2]));
        Assert.That(ex!.ParamName, Is.EqualTo("sums"));
    }
}
