using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests.Layers;

public class DropoutTests
{
    [TestCase(0.1f)]
    [TestCase(0.5f)]
    public void Mask_DropsTheRateAndScalesTheRestToKeepTheExpectation(float rate)
    {
        var dropout = new Dropout(rate);
        var mask = new float[200_003];   // not a multiple of four: the tail draws a word of its own
        dropout.DrawMask(new Rng(5), mask);
        double dropped = mask.Count(m => m == 0) / (double)mask.Length;
        Assert.That(dropped, Is.EqualTo(rate).Within(0.005));
        Assert.That(mask.Where(m => m != 0).Distinct(), Is.EqualTo(new[] { dropout.Scale }));
        Assert.That(dropout.Scale, Is.EqualTo(1 / (1 - dropout.Threshold / 65536.0)).Within(1e-6));
        Assert.That(mask.Average(m => (double)m), Is.EqualTo(1).Within(0.01), "inverted scaling keeps the mean");
    }

    [Test]
    public void Mask_IsDeterministicForTheGeneratorsState()
    {
        var dropout = new Dropout(0.3f);
        float[] a = new float[1001], b = new float[1001];
        dropout.DrawMask(new Rng(9), a);
        dropout.DrawMask(new Rng(9), b);
        Assert.That(a, Is.EqualTo(b));
    }

    [TestCase(-0.1f)]
    [TestCase(1f)]
    [TestCase(float.NaN)]
    public void Rate_OutsideZeroToOne_IsRefused(float rate) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Dropout(rate));

    private static readonly MlpConfig Config = new()
    {
        ContextLength = 3, VocabularySize = 7, EmbeddingWidth = 3, OutputWidth = 7, HiddenWidths = [8, 8, 6], Residual = true, HiddenBias = true,
    };

    private static MlpNetwork Network(MlpConfig config)
    {
        var net = new MlpNetwork(config);
        Initialization.Initialize(net, new InitOptions(), new Rng(4));
        return net;
    }

    private static int[] Ids(int rows) { var rng = new Rng(8); return Enumerable.Range(0, rows * 3).Select(_ => rng.NextInt(7)).ToArray(); }

    [TestCase(BlockStyle.PostActivation)]
    [TestCase(BlockStyle.PreActivation)]
    public void EvaluationMode_IsTheIdentity(BlockStyle style)
    {
        var config = Config with { BlockStyle = style };
        var plain = Network(config);
        var dropped = Network(config);
        dropped.SetDropout(0.4f, new Rng(1));
        var ids = Ids(16);
        Assert.That(dropped.Forward(NetworkInput.Ids(ids), 16, training: false).ToArray(), Is.EqualTo(plain.Forward(NetworkInput.Ids(ids), 16, training: false).ToArray()));
        // A training-mode pass does drop: the logits differ.
        Assert.That(dropped.Forward(NetworkInput.Ids(ids), 16, training: true).ToArray(), Is.Not.EqualTo(plain.Forward(NetworkInput.Ids(ids), 16, training: true).ToArray()));
    }

    [TestCase(BlockStyle.PostActivation)]
    [TestCase(BlockStyle.PreActivation)]
    public void RateZero_IsBitIdenticalToNoDropout(BlockStyle style)
    {
        var config = Config with { BlockStyle = style };
        var plain = Network(config);
        var zero = Network(config);
        zero.SetDropout(0.4f, new Rng(1));
        zero.SetDropout(0, null);
        Assert.That(zero.Dropout, Is.Null);
        var ids = Ids(16);
        int[] labels = Enumerable.Range(0, 16).Select(i => i % 7).ToArray();
        foreach (var net in new[] { plain, zero })
        {
            var logits = net.Forward(NetworkInput.Ids(ids), 16, training: true);
            var ws = net.GetWorkspace(16);
            SoftmaxCrossEntropy.Forward(logits, labels, ws.DLogits, 16, 7);
            net.Backward(ws.DLogits);
        }
        Assert.That(zero.Parameters.SelectMany(p => p.Grad.ToArray()), Is.EqualTo(plain.Parameters.SelectMany(p => p.Grad.ToArray())));
    }
}
