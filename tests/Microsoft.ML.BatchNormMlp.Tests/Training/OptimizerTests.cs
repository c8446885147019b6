using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Tests.Model;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Training;

public class OptimizerTests
{
    private static Parameter Param(params float[] values)
    {
        var p = new Parameter("p", [values.Length]);
        values.CopyTo(p.Data, 0);
        return p;
    }

    [Test]
    public void Sgd_PlainStepIsMinusLearningRateTimesGradient()
    {
        var p = Param(1, -2);
        float[] g = [0.5f, -1];
        g.CopyTo(p.Grad, 0);
        new Sgd([p]).Step(0.1f);
        Assert.That(p.Data, Is.EqualTo(new float[] { 0.95f, -1.9f }).Within(1e-7f));
    }

    [Test]
    public void Sgd_MomentumAndWeightDecayFollowPyTorch()
    {
        // PyTorch: d = g + wd·p; buf = d on the first step, then mu·buf + d; p -= lr·buf.
        var p = Param(1);
        var sgd = new Sgd([p], momentum: 0.9f, weightDecay: 0.1f);
        p.Grad[0] = 1; sgd.Step(0.5f);    // d = 1.1, buf = 1.1, p = 1 - 0.55 = 0.45
        Assert.That(p.Data[0], Is.EqualTo(0.45f).Within(1e-6f));
        p.Grad[0] = 2; sgd.Step(0.5f);    // d = 2.045, buf = 0.99 + 2.045 = 3.035, p = 0.45 - 1.5175
        Assert.That(p.Data[0], Is.EqualTo(0.45f - 1.5175f).Within(1e-6f));
    }

    [Test]
    public void Adam_MatchesPyTorchOverThreeStepsWithAndWithoutWeightDecay()
    {
        var fx = GoldenFixture.Load("adam").Root;
        var initial = GoldenFixture.Decode(fx.GetProperty("initial").GetString()!);
        var grads = fx.GetProperty("grads").EnumerateArray().Select(e => GoldenFixture.Decode(e.GetString()!)).ToArray();
        foreach (var run in fx.GetProperty("runs").EnumerateArray())
        {
            var p = Param(initial);
            var adam = new Adam([p], weightDecay: run.GetProperty("weightDecay").GetSingle());
            float lr = run.GetProperty("lr").GetSingle();
            int step = 0;
            foreach (var expected in run.GetProperty("after").EnumerateArray())
            {
                grads[step++].CopyTo(p.Grad, 0);
                adam.Step(lr);
                var want = GoldenFixture.Decode(expected.GetString()!);
                for (int i = 0; i < want.Length; i++)
                    Assert.That(p.Data[i], Is.EqualTo(want[i]).Within(1e-6f * (1 + MathF.Abs(want[i]))), $"lr {lr}, step {step}, element {i}");
            }
        }
    }

    // torch.optim.AdamW's step, written out in double: param.mul_(1 - lr·wd), then Adam's update on the raw gradient.
    [Test]
    public void AdamW_ShrinksTheWeightsThenTakesAdamsStepLikePyTorch()
    {
        float[] initial = [0.5f, -1.5f, 2f, 0.01f, -0.3f, 3f, -2f, 0.7f, 1.1f];   // more than one vector: the SIMD body and the tail
        float[][] grads = [[0.1f, -0.2f, 0.3f, 0, 1, -1, 0.5f, 0.25f, -0.4f], [-0.3f, 0.1f, 0.2f, 0.5f, -0.5f, 0.05f, 2, -1, 0.3f], [0.2f, 0.2f, -0.1f, 0.1f, 0, 0.3f, -0.2f, 0.1f, 0.9f]];
        const float lr = 0.01f, wd = 0.1f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
        var p = Param(initial);
        var adamw = new Adam([p], b1, b2, eps, wd, decoupled: true);
        double[] w = initial.Select(x => (double)x).ToArray(), m = new double[w.Length], v = new double[w.Length];
        for (int t = 1; t <= grads.Length; t++)
        {
            grads[t - 1].CopyTo(p.Grad, 0);
            adamw.Step(lr);
            for (int i = 0; i < w.Length; i++)
            {
                double g = grads[t - 1][i];
                w[i] *= 1 - (double)lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                w[i] -= lr / (1 - Math.Pow(b1, t)) * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(b2, t)) + eps);
                Assert.That(p.Data[i], Is.EqualTo(w[i]).Within(1e-6 * (1 + Math.Abs(w[i]))), $"step {t}, element {i}");
            }
        }
    }

    [Test]
    public void AdamW_WithoutDecay_IsBitIdenticalToAdam_AndWithDecayDiffersFromL2()
    {
        float[] initial = [0.5f, -1.5f, 2f, 0.01f, -0.3f, 3f, -2f, 0.7f, 1.1f];
        float[] Run(float wd, bool decoupled)
        {
            var p = Param(initial);
            var adam = new Adam([p], weightDecay: wd, decoupled: decoupled);
            for (int t = 0; t < 3; t++)
            {
                for (int i = 0; i < initial.Length; i++) p.Grad[i] = 0.1f * (i - 4) + 0.05f * t;
                adam.Step(0.01f);
            }
            return p.Data.ToArray();
        }
        Assert.That(Run(0, decoupled: true), Is.EqualTo(Run(0, decoupled: false)));
        Assert.That(Run(0.1f, decoupled: true), Is.Not.EqualTo(Run(0.1f, decoupled: false)));
    }

    [Test]
    public void Ema_IsTheLerpOfTheWeightsStartingFromTheFirst()
    {
        var p = Param(1, 2, 3, 4, 5, 6, 7, 8, 9);
        var ema = new ExponentialMovingAverage([p], 0.9f);
        ema.Update(1);                                  // starts as a copy
        Assert.That(ema.GetState()[0].Data, Is.EqualTo(p.Data));
        double[] want = p.Data.Select(x => (double)x).ToArray();
        for (int t = 2; t < 200; t++)
        {
            for (int i = 0; i < p.Data.Length; i++) p.Data[i] += 0.01f * (1 + i);
            ema.Update(t);
            double d = Math.Min(0.9, (1.0 + t) / (10 + t));   // warm-up: 3/12, 4/13, ... up to 0.9 from t = 80
            for (int i = 0; i < want.Length; i++) want[i] += (1 - d) * (p.Data[i] - want[i]);
        }
        Assert.That(ema.GetState()[0].Data, Is.EqualTo(want.Select(x => (float)x)).Within(1e-4f));
        ema.CopyTo();
        Assert.That(p.Data, Is.EqualTo(ema.GetState()[0].Data));
    }

    [Test]
    public void Ema_LoadIsStrict()
    {
        var p = Param(1, 2);
        var ema = new ExponentialMovingAverage([p], 0.5f);
        var ex = Assert.Throws<InvalidDataException>(() => ema.LoadState([new("q", [2], [0, 0])]));
        Assert.That(ex!.Message, Does.Contain("missing EMA tensor 'p'").And.Contain("unexpected EMA tensor 'q'"));
        Assert.Throws<InvalidDataException>(() => ema.LoadState([new("p", [3], [0, 0, 0])]));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ExponentialMovingAverage([p], 1));
    }

    [Test]
    public void StepDecay_LowersTheRateAtHalfTheStepsLikeTorchRef()
    {
        var s = new StepDecaySchedule(0.1);
        Assert.That(s.At(99_999, 200_000), Is.EqualTo(0.1f));
        Assert.That(s.At(100_000, 200_000), Is.EqualTo(0.01f));   // torch_ref: lr0/10 set at i == steps//2 before that step
        Assert.That(s.At(2, 5), Is.EqualTo(0.01f));               // 5 // 2 = 2
        Assert.That(new StepDecaySchedule(1, 0.5, AtStep: 3).At(3, 100), Is.EqualTo(0.5f));
        Assert.That(new ConstantSchedule(0.05).At(12345, 20), Is.EqualTo(0.05f));
    }
}
