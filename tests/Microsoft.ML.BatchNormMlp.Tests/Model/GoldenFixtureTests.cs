using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Model;

/// <summary>
/// The engine against PyTorch 1.13 on the same weights and batches (tests/fixtures/make_fixtures.py).
/// Tolerance: every element within <see cref="RelativeTolerance"/> × the reference tensor's largest magnitude, plus
/// <see cref="AbsoluteTolerance"/>. The two sides compute the same float32 expressions but reduce (GEMM sums,
/// BatchNorm means, the loss) in different orders, so each result carries a few float32 roundings (2^-24 ≈ 6e-8 each)
/// relative to the magnitudes summed: measured, the worst element of any tensor is 1.4e-6 of its scale. 1e-5 leaves
/// 7x headroom for a blocked, threaded GEMM while still catching any real error (a wrong sign, a missing term,
/// biased-vs-unbiased variance: all are 1e-3 of the scale or more). The absolute floor is for tensors that are zero
/// up to rounding: a Linear bias feeding a BatchNorm has a gradient of exactly 0 in exact arithmetic, which both sides
/// return as ±1e-7-sized noise.
/// </summary>
public class GoldenFixtureTests
{
    private const float RelativeTolerance = 1e-5f;
    private const float AbsoluteTolerance = 1e-6f;

    private static readonly string[] Networks = ["bn1", "seed002", "postres6", "preres3"];

    private static (MlpNetwork Network, GoldenFixture Fixture) Load(string name)
    {
        var fx = GoldenFixture.Load(name);
        var net = new MlpNetwork(fx.Config);
        StateDictionary.Load(net, fx.State("initial/"));
        return (net, fx);
    }

    [TestCaseSource(nameof(Networks))]
    public void TrainingForward_MatchesPyTorchLogitsAndLoss(string name)
    {
        var (net, fx) = Load(name);
        var b = fx.Batch(0);
        var logits = net.Forward(b.Input, b.Rows, training: true).ToArray();
        AssertClose(logits, fx.Tensor("logits"), "logits");
        double loss = SoftmaxCrossEntropy.Forward(logits, b.Labels, default, b.Rows, net.Config.OutputWidth);
        Assert.That(loss, Is.EqualTo(fx.Loss).Within(2e-6 * Math.Max(1, fx.Loss)), "loss");
    }

    [TestCaseSource(nameof(Networks))]
    public void Backward_MatchesPyTorchGradientOfEveryParameter(string name)
    {
        var (net, fx) = Load(name);
        var b = fx.Batch(0);
        var logits = net.Forward(b.Input, b.Rows, training: true);
        var ws = net.GetWorkspace(b.Rows);
        SoftmaxCrossEntropy.Forward(logits, b.Labels, ws.DLogits, b.Rows, net.Config.OutputWidth);
        net.Backward(ws.DLogits);
        foreach (var p in net.Parameters)
            AssertClose(p.Grad, fx.Tensor("grad/" + p.Name), "grad/" + p.Name);
        Assert.That(net.Parameters.Count, Is.EqualTo(fx.State("grad/").Count), "every PyTorch parameter has a C# counterpart");
    }

    [TestCaseSource(nameof(Networks))]
    public void ThreeSgdSteps_MatchPyTorchWeightsAndRunningStatistics(string name)
    {
        var (net, fx) = Load(name);
        var sgd = new Sgd(net.Parameters, fx.Momentum, fx.WeightDecay);
        for (int s = 0; s < fx.BatchCount; s++)
        {
            var b = fx.Batch(s);
            var logits = net.Forward(b.Input, b.Rows, training: true);
            var ws = net.GetWorkspace(b.Rows);
            SoftmaxCrossEntropy.Forward(logits, b.Labels, ws.DLogits, b.Rows, net.Config.OutputWidth);
            net.Backward(ws.DLogits);
            sgd.Step(fx.LearningRate);
        }
        foreach (var t in net.Tensors)
            AssertClose(t.Data, fx.Tensor("after/" + t.Name), "after/" + t.Name);
    }

    [TestCaseSource(nameof(Networks))]
    public void EvalForwardAfterTraining_MatchesPyTorchEvalLogits(string name)
    {
        var (net, fx) = Load(name);
        StateDictionary.Load(net, fx.State("after/"));
        var b = fx.EvalBatch;
        var logits = net.Forward(b.Input, b.Rows, training: false).ToArray();
        AssertClose(logits, fx.Tensor("eval_logits"), "eval_logits");
    }

    internal static void AssertClose(ReadOnlySpan<float> actual, float[] expected, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what + " length");
        float scale = 0, worst = 0;
        foreach (float e in expected) scale = MathF.Max(scale, MathF.Abs(e));
        for (int i = 0; i < expected.Length; i++) worst = MathF.Max(worst, MathF.Abs(actual[i] - expected[i]));
        TestContext.Out.WriteLine($"{what}: max |diff| {worst:E2}, scale {scale:E2}, ratio {worst / Math.Max(scale, 1e-30f):E2}");
        Assert.That(worst, Is.LessThanOrEqualTo(RelativeTolerance * scale + AbsoluteTolerance), $"{what}: max |diff| {worst} against scale {scale}");
    }
}
