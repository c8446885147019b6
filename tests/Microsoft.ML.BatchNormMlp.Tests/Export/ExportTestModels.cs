using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests.Export;

/// <summary>Small random models of every architecture, and their evaluation-mode logits by the engine.</summary>
internal static class ExportTestModels
{
    /// <summary>A vocabulary of n symbols: the boundary "." then "a", "b", ...</summary>
    public static string[] Symbols(int n) => Enumerable.Range(0, n).Select(i => i == 0 ? "." : ((char)('a' + i - 1)).ToString()).ToArray();

    /// <summary>Named architectures covering every block style, BatchNorm placement, residual and dense input.</summary>
    public static MlpConfig Config(string name) => name switch
    {
        // The first seed's DeepMLP: post-activation, BN, residual where widths match, hidden bias.
        "post-bn-residual" => new MlpConfig { ContextLength = 3, VocabularySize = 8, EmbeddingWidth = 4, OutputWidth = 8, HiddenWidths = [16, 16, 16, 12], HiddenBias = true, Residual = true },
        // The third seed: no hidden bias, BN after the output Linear.
        "post-bn-outputbn" => new MlpConfig { ContextLength = 3, VocabularySize = 8, EmbeddingWidth = 5, OutputWidth = 8, HiddenWidths = [20, 10], OutputBatchNorm = true },
        // ResNet v2 (fourth seed): pre-activation BN with relu, residual.
        "pre-bn-residual" => new MlpConfig { ContextLength = 4, VocabularySize = 8, EmbeddingWidth = 3, OutputWidth = 8, HiddenWidths = [16, 16, 16], BlockStyle = BlockStyle.PreActivation, Activation = Activation.Relu, Residual = true, HiddenBias = true },
        // Pre-activation without residual, tanh, output BN, no output bias.
        "pre-bn-plain" => new MlpConfig { ContextLength = 2, VocabularySize = 8, EmbeddingWidth = 4, OutputWidth = 8, HiddenWidths = [12, 10], BlockStyle = BlockStyle.PreActivation, OutputBias = false, OutputBatchNorm = true },
        // MNIST-1D style dense input, relu, residual.
        "dense-bn-residual" => new MlpConfig { DenseInputWidth = 40, VocabularySize = 0, EmbeddingWidth = 0, OutputWidth = 10, HiddenWidths = [32, 32, 32], Activation = Activation.Relu, Residual = true },
        // A merged ensemble of a tanh and a ReLU member (MlpConfig.ActivationGroups): post-activation, BN, residual.
        "post-bn-groups" => new MlpConfig { ContextLength = 3, VocabularySize = 8, EmbeddingWidth = 4, OutputWidth = 8, HiddenWidths = [16, 16, 12], Residual = true, ActivationGroups = [Activation.Tanh, Activation.Relu] },
        // Three groups, pre-activation, residual, dense input.
        "pre-bn-groups" => new MlpConfig { DenseInputWidth = 40, VocabularySize = 0, EmbeddingWidth = 0, OutputWidth = 10, HiddenWidths = [24, 24, 24], BlockStyle = BlockStyle.PreActivation, Residual = true, HiddenBias = true, ActivationGroups = [Activation.Relu, Activation.Tanh, Activation.Relu] },
        _ => throw new ArgumentException(name),
    };

    public static readonly string[] Names = ["post-bn-residual", "post-bn-outputbn", "pre-bn-residual", "pre-bn-plain", "dense-bn-residual"];

    /// <summary><see cref="Names"/> and networks with activation groups (which the PyTorch fixtures do not cover).</summary>
    public static readonly string[] NamesWithGroups = [.. Names, "post-bn-groups", "pre-bn-groups"];

    /// <summary>A model with random weights and plausible (trained-looking) running statistics.</summary>
    public static ModelState Random(MlpConfig c, ulong seed)
    {
        var rng = new Rng(seed);
        var tensors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var spec in TensorLayout.Expected(c))
        {
            var t = new float[spec.ElementCount];
            string kind = spec.Name[(spec.Name.LastIndexOf('.') + 1)..];
            int fanIn = spec.Shape.Length == 2 ? spec.Shape[1] : 1;
            for (int i = 0; i < t.Length; i++)
                t[i] = kind switch
                {
                    "running_var" => 0.2f + 2f * rng.NextFloat(),
                    "running_mean" => 0.5f * rng.NextGaussian(),
                    "weight" when spec.Name.Contains(".norm") || spec.Name.StartsWith("output_norm") => 0.5f + rng.NextFloat(),
                    "weight" when spec.Name == "embedding.weight" => rng.NextGaussian(),
                    "weight" => rng.NextGaussian() / MathF.Sqrt(fanIn),
                    _ => 0.3f * rng.NextGaussian(),
                };
            tensors[spec.Name] = t;
        }
        return new ModelState(c, c.IsDense ? null : Symbols(c.VocabularySize), false, tensors);
    }

    public static ModelState Random(string name, ulong seed = 7) => Random(Config(name), seed);

    /// <summary>Random symbol contexts [rows, ctx] (as int) or dense rows [rows, width].</summary>
    public static int[] Contexts(MlpConfig c, int rows, ulong seed)
    {
        var rng = new Rng(seed);
        var ids = new int[rows * c.ContextLength];
        for (int i = 0; i < ids.Length; i++) ids[i] = rng.NextInt(c.VocabularySize);
        return ids;
    }

    public static float[] Features(MlpConfig c, int rows, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new float[rows * c.DenseInputWidth];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextGaussian();
        return x;
    }

    /// <summary>Logits of the model on its input, by <see cref="FoldedMlp"/> (folded) or <see cref="NetworkForward"/> (unfolded).</summary>
    public static float[] Logits(ModelState model, int[]? ids, float[]? features, int rows) => model.Folded
        ? (model.Config.IsDense ? new FoldedMlp(model).ForwardDense(features, rows) : new FoldedMlp(model).Forward(ids, rows))
        : NetworkForward(model, ids, features, rows);

    /// <summary>The unfolded model in evaluation mode: the engine's <see cref="MlpNetwork"/> holding the model's tensors.</summary>
    public static float[] NetworkForward(ModelState model, int[]? ids, float[]? features, int rows)
    {
        Assert.That(model.Folded, Is.False, "NetworkForward runs unfolded models");
        var network = new MlpNetwork(model.Config);
        StateDictionary.Load(network, TensorLayout.Expected(model.Config).Select(s => new TensorValue(s.Name, s.Shape, model.Tensors[s.Name])));
        var input = ids is null ? NetworkInput.Dense(features) : NetworkInput.Ids(ids);
        return network.Forward(input, rows, training: false).ToArray();
    }

    public static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "bnmlp-export-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static double MaxAbsDifference(float[] a, float[] b)
    {
        Assert.That(a, Has.Length.EqualTo(b.Length));
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }
}
