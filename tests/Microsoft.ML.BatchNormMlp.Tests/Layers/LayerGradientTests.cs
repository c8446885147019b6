using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests.Layers;

/// <summary>Every layer's backward against finite differences of its forward (loss Σ y·r, so ∂L/∂y = r).</summary>
public class LayerGradientTests
{
    [TestCase(true)]
    [TestCase(false)]
    public void Linear_WeightBiasAndInputGradients(bool bias)
    {
        const int B = 5, In = 7, Out = 4;
        var rng = new Rng(3);
        var lin = new Linear("l", In, Out, bias);
        GradientCheck.Random(In * Out, rng).CopyTo(lin.Weight.Data, 0);
        if (lin.Bias is { } b) GradientCheck.Random(Out, rng).CopyTo(b.Data, 0);
        var x = GradientCheck.Random(B * In, rng);
        var r = GradientCheck.Random(B * Out, rng);
        var y = new float[B * Out];
        double Loss() { lin.Forward(x, y, B); return GradientCheck.Dot(y, r); }

        var dx = new float[B * In];
        Loss();
        lin.Backward(x, r, dx, B);
        GradientCheck.Check("dW", lin.Weight.Data, lin.Weight.Grad, Loss);
        if (lin.Bias is { } bb) GradientCheck.Check("db", bb.Data, bb.Grad, Loss);
        GradientCheck.Check("dx", x, dx, Loss);
    }

    [Test]
    public void Linear_AccumulatingForwardAndBackwardAddToTheTarget()
    {
        var lin = new Linear("l", 2, 2, bias: true);
        float[] w = [1, 2, 3, 4], bias = [10, 20];
        w.CopyTo(lin.Weight.Data, 0); bias.CopyTo(lin.Bias!.Data, 0);
        float[] x = [1, 1];
        float[] y = [100, 200];
        lin.Forward(x, y, 1, accumulate: true);
        Assert.That(y, Is.EqualTo(new float[] { 100 + 3 + 10, 200 + 7 + 20 }));
        float[] dx = [1, 1];
        lin.Backward(x, [1, 0], dx, 1, accumulateDx: true);
        Assert.That(dx, Is.EqualTo(new float[] { 2, 3 }));   // 1 + dy·W = 1 + [1, 2]
        Assert.That(lin.Bias.Grad, Is.EqualTo(new float[] { 1, 0 }));
    }

    [Test]
    public void Embedding_GradientAccumulatesOverRepeatedIds()
    {
        const int B = 4, Ctx = 3, V = 6, E = 5;
        var rng = new Rng(5);
        var emb = new Embedding("embedding", V, E, Ctx);
        GradientCheck.Random(V * E, rng).CopyTo(emb.Weight.Data, 0);
        int[] ids = [0, 0, 1, 2, 3, 0, 5, 5, 5, 1, 2, 0];   // 4 never occurs, 0 and 5 repeat
        var r = GradientCheck.Random(B * Ctx * E, rng);
        var y = new float[B * Ctx * E];
        double Loss() { emb.Forward(ids, y, B); return GradientCheck.Dot(y, r); }
        Loss();
        emb.Backward(ids, r, B);
        GradientCheck.Check("dEmbedding", emb.Weight.Data, emb.Weight.Grad, Loss, samples: V * E);
        Assert.That(emb.Weight.Grad.AsSpan(4 * E, E).ToArray(), Is.All.EqualTo(0f), "an id that never occurs gets no gradient");
        Assert.That(y.AsSpan(3 * E, E).ToArray(), Is.EqualTo(emb.Weight.Data.AsSpan(2 * E, E).ToArray()), "row 1, position 0 holds id 2's vector");
    }

    [Test]
    public void Embedding_RejectsAnIdOutsideTheVocabularyNamingRowAndPosition()
    {
        var emb = new Embedding("embedding", 5, 2, 3);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => emb.Forward([0, 1, 2, 3, 9, 0], new float[12], 2));
        Assert.That(ex!.Message, Does.Contain("Row 1, context position 1: symbol id 9 is outside the vocabulary [0, 5)"));
    }

    [TestCase("None", true)]
    [TestCase("Tanh", true)]
    [TestCase("Relu", true)]
    [TestCase("None", false)]
    [TestCase("Tanh", false)]
    public void BatchNorm_FusedWithActivation_GammaBetaAndInputGradients(string function, bool training)
    {
        var f = Enum.Parse<FusedActivation>(function);
        const int B = 6, H = 5;
        var rng = new Rng(11);
        var bn = new BatchNorm1d("bn", H);
        for (int j = 0; j < H; j++)
        {
            bn.Weight.Data[j] = 1 + 0.3f * rng.NextGaussian();
            bn.Bias.Data[j] = 0.3f * rng.NextGaussian();
            bn.RunningMean.Data[j] = 0.5f * rng.NextGaussian();
            bn.RunningVar.Data[j] = 0.5f + rng.NextFloat();
        }
        var x = GradientCheck.Random(B * H, rng, 2);
        for (int i = 0; i < x.Length; i++) x[i] += 1;   // a non-zero mean, so centring matters
        var r = GradientCheck.Random(B * H, rng);
        var y = new float[B * H];
        double Loss() { bn.Forward(x, y, B, training, f); return GradientCheck.Dot(y, r); }
        Loss();
        var dx = new float[B * H];
        bn.Backward(x, y, r, dx, B, f);
        float step = f == FusedActivation.Relu ? 1e-3f : GradientCheck.Step;
        GradientCheck.Check("dgamma", bn.Weight.Data, bn.Weight.Grad, Loss, step: step);
        GradientCheck.Check("dbeta", bn.Bias.Data, bn.Bias.Grad, Loss, step: step);
        GradientCheck.Check("dx", x, dx, Loss, samples: B * H, step: step);
    }

    [Test]
    public void BatchNorm_AccumulatingBackwardAddsToTheExistingGradient()
    {
        const int B = 4, H = 3;
        var rng = new Rng(2);
        var bn = new BatchNorm1d("bn", H);
        var x = GradientCheck.Random(B * H, rng);
        var r = GradientCheck.Random(B * H, rng);
        var y = new float[B * H];
        bn.Forward(x, y, B, training: true, FusedActivation.Tanh);
        var plain = new float[B * H];
        bn.Backward(x, y, r, plain, B, FusedActivation.Tanh);
        var acc = Enumerable.Repeat(0.5f, B * H).ToArray();
        bn.Backward(x, y, r, acc, B, FusedActivation.Tanh, accumulateDx: true);
        for (int i = 0; i < acc.Length; i++) Assert.That(acc[i], Is.EqualTo(plain[i] + 0.5f).Within(1e-6f));
    }

    [TestCase("Tanh")]
    [TestCase("Relu")]
    public void Activation_BackwardFromOutputMatchesFiniteDifferences(string function)
    {
        var f = Enum.Parse<FusedActivation>(function);
        var rng = new Rng(9);
        var x = GradientCheck.Random(40, rng);   // 40: exercises the vector body and the scalar tail
        for (int i = 0; i < x.Length; i++) if (MathF.Abs(x[i]) < 0.05f) x[i] = 0.5f;   // keep ReLU's kink out of reach of the step
        var r = GradientCheck.Random(40, rng);
        var y = new float[40];
        double Loss() { x.CopyTo(y, 0); Activations.Forward(f, y, y); return GradientCheck.Dot(y, r); }
        Loss();
        var dx = new float[40];
        Activations.Backward(f, y, r, dx);
        GradientCheck.Check(f.ToString(), x, dx, Loss, samples: 40);
    }

    [Test]
    public void SoftmaxCrossEntropy_GradientMatchesFiniteDifferences()
    {
        const int B = 4, K = 6;
        var rng = new Rng(4);
        var z = GradientCheck.Random(B * K, rng, 2);
        int[] t = [0, 5, 2, 2];
        var g = new float[B * K];
        SoftmaxCrossEntropy.Forward(z, t, g, B, K);
        GradientCheck.Check("dlogits", z, g, () => SoftmaxCrossEntropy.Forward(z, t, default, B, K), samples: B * K);
    }

    [Test]
    public void SoftmaxCrossEntropy_IsTheMeanNegativeLogLikelihoodAndStableForHugeLogits()
    {
        // Row 0: uniform over 3 classes, loss ln 3. Row 1: logits 1000 apart; a naive exp overflows.
        float[] z = [0, 0, 0, 1000, 0, -1000];
        double loss = SoftmaxCrossEntropy.Forward(z, [1, 1], default, 2, 3);
        Assert.That(loss, Is.EqualTo((Math.Log(3) + 1000) / 2).Within(1e-9));
        var g = new float[6];
        SoftmaxCrossEntropy.Forward(z, [1, 1], g, 2, 3);
        Assert.That(g, Is.EqualTo(new float[] { 1 / 6f, -1 / 3f, 1 / 6f, 0.5f, -0.5f, 0 }).Within(1e-7f));
    }

    [Test]
    public void SoftmaxCrossEntropy_RejectsATargetOutsideTheClasses()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => SoftmaxCrossEntropy.Forward(new float[6], [0, 3], default, 2, 3));
        Assert.That(ex!.Message, Does.Contain("Row 1: target 3 is outside the 3 classes"));
    }
}
