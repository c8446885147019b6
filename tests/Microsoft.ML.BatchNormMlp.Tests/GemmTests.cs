using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests;

public class GemmTests
{
    [Test]
    public void MultiplyNT_MatchesHandComputedProduct()
    {
        float[] a = [1, 2, 3, 4, 5, 6];     // [2,3]
        float[] b = [1, 0, -1, 2, 1, 0];    // [2,3]
        var c = new float[4];
        Gemm.MultiplyNT(a, b, c, 2, 2, 3);
        Assert.That(c, Is.EqualTo(new float[] { -2, 4, -2, 13 }));
    }
}
