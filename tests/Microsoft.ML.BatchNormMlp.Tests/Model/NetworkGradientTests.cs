using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Tests.Layers;

namespace Microsoft.ML.BatchNormMlp.Tests.Model;

/// <summary>Whole small networks of every block style: backward against finite differences of the training-mode loss.</summary>
public class NetworkGradientTests
{
    private static readonly MlpConfig Symbols = new() { ContextLength = 3, VocabularySize = 7, EmbeddingWidth = 3, OutputWidth = 7, HiddenWidths = [6] };
    private static readonly MlpConfig Dense = new() { DenseInputWidth = 5, VocabularySize = 0, EmbeddingWidth = 0, OutputWidth = 4, HiddenWidths = [6] };

    public static IEnumerable<TestCaseData> Configs()
    {
        yield return Case("post, BN, no bias (bn1)", Symbols with { HiddenWidths = [6] });
        yield return Case("post, no BN, bias (plain1)", Symbols with { HiddenBatchNorm = false, HiddenBias = true });
        yield return Case("post, BN + bias, output BN (seed002)", Symbols with { HiddenWidths = [6, 5], HiddenBias = true, OutputBatchNorm = true });
        yield return Case("post residual, BN, mixed widths", Symbols with { HiddenWidths = [6, 6, 5, 5], HiddenBias = true, Residual = true });
        yield return Case("post residual, no BN", Symbols with { HiddenWidths = [6, 6, 6], HiddenBatchNorm = false, HiddenBias = true, Residual = true });
        yield return Case("pre residual, BN, ReLU, dense", Dense with { HiddenWidths = [6, 6, 6, 4], BlockStyle = BlockStyle.PreActivation, Activation = Activation.Relu, HiddenBias = true, Residual = true });
        yield return Case("pre residual, no BN, tanh, symbols", Symbols with { HiddenWidths = [6, 6, 6], BlockStyle = BlockStyle.PreActivation, HiddenBatchNorm = false, HiddenBias = true, Residual = true });
        yield return Case("pre, no residual, BN, tanh, output BN", Symbols with { HiddenWidths = [6, 5], BlockStyle = BlockStyle.PreActivation, OutputBatchNorm = true });
        yield return Case("post, ReLU, dense, BN", Dense with { HiddenWidths = [6, 6], Activation = Activation.Relu, Residual = true });
        yield return Case("no hidden layer", Symbols with { HiddenWidths = [] });
        // Activation groups (a merged ensemble of tanh and ReLU members): the norm's kernel runs without an activation,
        // then each group's own, forward and backward.
        yield return Case("post residual, BN, groups tanh/relu", Symbols with { HiddenWidths = [6, 6, 6], Residual = true, ActivationGroups = [Activation.Tanh, Activation.Relu] });
        yield return Case("post, no BN, groups relu/tanh/tanh", Symbols with { HiddenWidths = [6, 3], HiddenBatchNorm = false, HiddenBias = true, ActivationGroups = [Activation.Relu, Activation.Tanh, Activation.Tanh] });
        yield return Case("pre residual, BN, groups tanh/relu, dense", Dense with { HiddenWidths = [6, 6, 4], BlockStyle = BlockStyle.PreActivation, HiddenBias = true, Residual = true, ActivationGroups = [Activation.Tanh, Activation.Relu] });
        yield return Case("pre residual, no BN, groups relu/tanh", Symbols with { HiddenWidths = [6, 6], BlockStyle = BlockStyle.PreActivation, HiddenBatchNorm = false, HiddenBias = true, Residual = true, ActivationGroups = [Activation.Relu, Activation.Tanh] });
    }

    private static TestCaseData Case(string name, MlpConfig c) => new TestCaseData(c).SetArgDisplayNames(name);

    [TestCaseSource(nameof(Configs))]
    public void Backward_MatchesFiniteDifferencesForEveryParameter(MlpConfig config) => CheckEveryParameter(config, dropout: 0);

    public static IEnumerable<TestCaseData> DropoutConfigs()
    {
        yield return Case("post residual, BN, mixed widths", Symbols with { HiddenWidths = [6, 6, 5, 5], HiddenBias = true, Residual = true });
        yield return Case("post, no residual, no BN", Symbols with { HiddenWidths = [6, 5], HiddenBatchNorm = false, HiddenBias = true });
        yield return Case("pre residual, BN, tanh, output BN", Symbols with { HiddenWidths = [6, 6, 6], BlockStyle = BlockStyle.PreActivation, Residual = true, OutputBatchNorm = true });
        yield return Case("pre, no residual, no BN, ReLU, dense", Dense with { HiddenWidths = [6, 5], BlockStyle = BlockStyle.PreActivation, Activation = Activation.Relu, HiddenBatchNorm = false, HiddenBias = true });
        yield return Case("post residual, BN, groups tanh/relu", Symbols with { HiddenWidths = [6, 6, 6], Residual = true, ActivationGroups = [Activation.Tanh, Activation.Relu] });
    }

    // Dropout with one fixed mask: the generator is rewound before every forward pass, so the loss is a smooth
    // function of the weights and backward must match its finite differences.
    [TestCaseSource(nameof(DropoutConfigs))]
    public void Backward_WithAFixedDropoutMask_MatchesFiniteDifferences(MlpConfig config) => CheckEveryParameter(config, dropout: 0.3f);

    private static void CheckEveryParameter(MlpConfig config, float dropout)
    {
        const int B = 8;
        var net = new MlpNetwork(config);
        var rng = new Rng(21);
        Initialization.Initialize(net, new InitOptions(), rng);
        var masks = new Rng(33);
        var maskStart = masks.State;
        if (dropout > 0) net.SetDropout(dropout, masks);
        foreach (var norm in net.Norms.Append(net.OutputNorm))
        {
            if (norm is null) continue;
            for (int j = 0; j < norm.Width; j++) { norm.Weight.Data[j] = 1 + 0.3f * rng.NextGaussian(); norm.Bias.Data[j] = 0.3f * rng.NextGaussian(); }
        }
        int[] ids = Enumerable.Range(0, B * config.ContextLength).Select(_ => rng.NextInt(Math.Max(1, config.VocabularySize))).ToArray();
        float[] features = GradientCheck.Random(B * Math.Max(1, config.DenseInputWidth), rng);
        int[] labels = Enumerable.Range(0, B).Select(_ => rng.NextInt(config.OutputWidth)).ToArray();
        double Loss()
        {
            var input = config.IsDense ? NetworkInput.Dense(features) : NetworkInput.Ids(ids);
            masks.State = maskStart;
            var logits = net.Forward(input, B, training: true);
            // Sum rather than mean over the batch so that gradients are O(1) and well above float noise.
            return SoftmaxCrossEntropy.Forward(logits, labels, default, B, config.OutputWidth) * B;
        }

        Loss();
        if (dropout > 0)
            Assert.That(net.GetWorkspace(B).Mask.Where(m => m.Length > 0).SelectMany(m => m).Count(m => m == 0), Is.GreaterThan(0), "some units are dropped");
        var ws = net.GetWorkspace(B);
        SoftmaxCrossEntropy.Forward(ws.Logits, labels, ws.DLogits, B, config.OutputWidth);
        for (int i = 0; i < ws.DLogits.Length; i++) ws.DLogits[i] *= B;
        net.Backward(ws.DLogits);
        var grads = net.Parameters.ToDictionary(p => p.Name, p => p.Grad.ToArray());

        float step = config.Activation == Activation.Relu ? 1e-3f : 3e-3f;   // deeper than one layer: a smaller step keeps the O(h²) term down
        foreach (var p in net.Parameters)
        {
            // Biases whose shift a later BatchNorm removes have a zero gradient; allowZero checks that too.
            GradientCheck.Check(p.Name, p.Data, grads[p.Name], Loss, step: step, allowZero: true);
        }
    }
}
