namespace Microsoft.ML.BatchNormMlp.Model;

/// <summary>Whether a tensor is trained by the optimizer or only saved (BatchNorm running statistics).</summary>
internal enum TensorRole { Parameter, Buffer }

/// <summary>One named tensor that a network of a given <see cref="MlpConfig"/> must hold.</summary>
internal sealed record TensorSpec(string Name, int[] Shape, TensorRole Role)
{
    public int ElementCount => Shape.Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// The names and shapes of a network's tensors, following PyTorch's module conventions so that a short
/// PyTorch script can load a model file. This is the single source of truth shared by the network's state
/// dictionary, the model file's strict loader, folding and ONNX export.
/// </summary>
internal static class TensorLayout
{
    public static IReadOnlyList<TensorSpec> Expected(MlpConfig c)
    {
        var specs = new List<TensorSpec>();
        if (!c.IsDense)
            specs.Add(new("embedding.weight", [c.VocabularySize, c.EmbeddingWidth], TensorRole.Parameter));

        int width = c.InputWidth;
        for (int i = 0; i < c.HiddenWidths.Count; i++)
        {
            int output = c.HiddenWidths[i];
            bool stem = c.BlockStyle == BlockStyle.PreActivation && i == 0;
            // Post-activation normalizes the Linear's output; pre-activation normalizes the block's input.
            int normWidth = c.BlockStyle == BlockStyle.PreActivation ? width : output;
            specs.Add(new($"hidden.{i}.linear.weight", [output, width], TensorRole.Parameter));
            if (c.HiddenBias)
                specs.Add(new($"hidden.{i}.linear.bias", [output], TensorRole.Parameter));
            if (c.HiddenBatchNorm && !stem)
                AddNorm(specs, $"hidden.{i}.norm", normWidth);
            width = output;
        }

        specs.Add(new("output.weight", [c.OutputWidth, width], TensorRole.Parameter));
        if (c.OutputBias)
            specs.Add(new("output.bias", [c.OutputWidth], TensorRole.Parameter));
        if (c.OutputBatchNorm)
            AddNorm(specs, "output_norm", c.OutputWidth);
        return specs;
    }

    /// <summary>
    /// The layout of the same network after <c>Export.BatchNormFolding</c>: no <c>norm</c> tensors. A BatchNorm that
    /// directly follows a Linear (post-activation hidden layers, <c>output_norm</c>) is folded into that Linear, which
    /// therefore always has a bias; a pre-activation BatchNorm (on the block input, before the activation) becomes a
    /// per-feature scale and shift <c>hidden.{i}.affine.{weight,bias}</c> [in].
    /// </summary>
    public static IReadOnlyList<TensorSpec> ExpectedFolded(MlpConfig c)
    {
        bool post = c.BlockStyle == BlockStyle.PostActivation;
        var linearOnly = c with
        {
            HiddenBias = c.HiddenBias || (post && c.HiddenBatchNorm),
            HiddenBatchNorm = false,
            OutputBias = c.OutputBias || c.OutputBatchNorm,
            OutputBatchNorm = false,
        };
        var specs = new List<TensorSpec>(Expected(linearOnly));
        if (!post && c.HiddenBatchNorm)
            for (int i = 1; i < c.HiddenWidths.Count; i++)
            {
                int width = c.HiddenWidths[i - 1];
                int at = specs.FindIndex(s => s.Name == $"hidden.{i}.linear.weight");
                specs.Insert(at, new($"hidden.{i}.affine.weight", [width], TensorRole.Parameter));
                specs.Insert(at + 1, new($"hidden.{i}.affine.bias", [width], TensorRole.Parameter));
            }
        return specs;
    }

    private static void AddNorm(List<TensorSpec> specs, string prefix, int width)
    {
        specs.Add(new($"{prefix}.weight", [width], TensorRole.Parameter));
        specs.Add(new($"{prefix}.bias", [width], TensorRole.Parameter));
        specs.Add(new($"{prefix}.running_mean", [width], TensorRole.Buffer));
        specs.Add(new($"{prefix}.running_var", [width], TensorRole.Buffer));
    }
}
