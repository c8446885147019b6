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
