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

    private static void AddNorm(List<TensorSpec> specs, string prefix, int width)
    {
        specs.Add(new($"{prefix}.weight", [width], TensorRole.Parameter));
        specs.Add(new($"{prefix}.bias", [width], TensorRole.Parameter));
        specs.Add(new($"{prefix}.running_mean", [width], TensorRole.Buffer));
        specs.Add(new($"{prefix}.running_var", [width], TensorRole.Buffer));
    }
}
