using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests.Export;

/// <summary>Small random models of every architecture, and an independent eval-mode forward pass to check them against.</summary>
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
        _ => throw new ArgumentException(name),
    };

    public static readonly string[] Names = ["post-bn-residual", "post-bn-outputbn", "pre-bn-residual", "pre-bn-plain", "dense-bn-residual"];

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

    /// <summary>Logits of the model on its input, by <see cref="FoldedMlp"/> (folded) or <see cref="ReferenceForward"/> (unfolded).</summary>
    public static float[] Logits(ModelState model, int[]? ids, float[]? features, int rows) => model.Folded
        ? (model.Config.IsDense ? new FoldedMlp(model).ForwardDense(features, rows) : new FoldedMlp(model).Forward(ids, rows))
        : ReferenceForward(model, ids, features, rows);

    /// <summary>
    /// The unfolded network in evaluation mode, written as plainly as possible (scalar loops, BatchNorm from its
    /// running statistics) to be an independent oracle until the engine's network lands. Follows ARCHITECTURE.md.
    /// </summary>
    public static float[] ReferenceForward(ModelState model, int[]? ids, float[]? features, int rows)
    {
        var c = model.Config;
        var t = model.Tensors;
        var logits = new float[rows * c.OutputWidth];
        for (int r = 0; r < rows; r++)
        {
            float[] h = new float[c.InputWidth];
            if (c.IsDense) Array.Copy(features!, r * c.DenseInputWidth, h, 0, c.DenseInputWidth);
            else
                for (int j = 0; j < c.ContextLength; j++)
                    Array.Copy(t["embedding.weight"], ids![r * c.ContextLength + j] * c.EmbeddingWidth, h, j * c.EmbeddingWidth, c.EmbeddingWidth);

            for (int i = 0; i < c.HiddenWidths.Count; i++)
            {
                string p = $"hidden.{i}";
                float[] y;
                if (c.BlockStyle == BlockStyle.PostActivation)
                {
                    y = Linear(h, t[$"{p}.linear.weight"], t.GetValueOrDefault($"{p}.linear.bias"));
                    if (c.HiddenBatchNorm) y = Norm(y, t, $"{p}.norm", c.BatchNormEpsilon);
                    y = Act(y, c.Activation);
                }
                else if (i == 0) y = Linear(h, t[$"{p}.linear.weight"], t.GetValueOrDefault($"{p}.linear.bias"));
                else
                {
                    var z = c.HiddenBatchNorm ? Norm(h, t, $"{p}.norm", c.BatchNormEpsilon) : h;
                    y = Linear(Act(z, c.Activation), t[$"{p}.linear.weight"], t.GetValueOrDefault($"{p}.linear.bias"));
                }
                h = c.Residual && i > 0 && y.Length == h.Length ? h.Zip(y, (a, b) => a + b).ToArray() : y;
            }
            var o = Linear(h, t["output.weight"], t.GetValueOrDefault("output.bias"));
            if (c.OutputBatchNorm) o = Norm(o, t, "output_norm", c.BatchNormEpsilon);
            Array.Copy(o, 0, logits, r * c.OutputWidth, c.OutputWidth);
        }
        return logits;
    }

    private static float[] Linear(float[] x, float[] w, float[]? b)
    {
        int outputs = w.Length / x.Length;
        var y = new float[outputs];
        for (int o = 0; o < outputs; o++)
        {
            float s = b?[o] ?? 0f;
            for (int k = 0; k < x.Length; k++) s += x[k] * w[o * x.Length + k];
            y[o] = s;
        }
        return y;
    }

    private static float[] Norm(float[] x, IReadOnlyDictionary<string, float[]> t, string p, float eps)
    {
        var (g, b, m, v) = (t[$"{p}.weight"], t[$"{p}.bias"], t[$"{p}.running_mean"], t[$"{p}.running_var"]);
        return x.Select((xi, j) => (xi - m[j]) / MathF.Sqrt(v[j] + eps) * g[j] + b[j]).ToArray();
    }

    private static float[] Act(float[] x, Activation a) =>
        x.Select(v => a == Activation.Tanh ? MathF.Tanh(v) : MathF.Max(v, 0f)).ToArray();

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
