using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Export;

/// <summary>
/// Folds evaluation-mode BatchNorm into the network's other tensors: pure math on a state dictionary.
/// With <c>s = gamma / sqrt(running_var + eps)</c>, a BatchNorm directly after a Linear (post-activation hidden
/// layers, <c>output_norm</c>) folds into it as <c>W' = W * s</c> per output row and <c>b' = (b - mean) * s + beta</c>
/// (b = 0 where the Linear has no bias). A pre-activation BatchNorm sits between the residual stream and the
/// activation, so nothing linear precedes it alone; it becomes the per-feature scale and shift
/// <c>hidden.{i}.affine.weight = s</c>, <c>hidden.{i}.affine.bias = beta - mean * s</c>.
/// Everything is computed in double and rounded once to float32. The result keeps the original config and is
/// marked folded; its tensors follow <see cref="TensorLayout.ExpectedFolded"/>.
/// </summary>
internal static class BatchNormFolding
{
    /// <exception cref="InvalidOperationException">The model has no BatchNorm, is already folded, or lacks running statistics.</exception>
    public static ModelState Fold(ModelState model)
    {
        var c = model.Config;
        if (model.Folded)
            throw new InvalidOperationException("The model is already folded.");
        ModelValidation.Check(model, problem => new InvalidOperationException($"Cannot fold: {problem}."));
        bool post = c.BlockStyle == BlockStyle.PostActivation;
        bool anyHiddenNorm = c.HiddenBatchNorm && c.HiddenWidths.Count > (post ? 0 : 1);
        if (!anyHiddenNorm && !c.OutputBatchNorm)
            throw new InvalidOperationException("The model has no BatchNorm layers, so it has no running statistics to fold.");
        foreach (var spec in TensorLayout.Expected(c))
        {
            if (!model.Tensors.TryGetValue(spec.Name, out var t))
                throw new InvalidOperationException($"Cannot fold: tensor '{spec.Name}' is missing{(spec.Role == TensorRole.Buffer ? " (no running statistics: was the model trained?)" : "")}.");
            if (t.Length != spec.ElementCount)
                throw new InvalidOperationException($"Cannot fold: tensor '{spec.Name}' holds {t.Length} floats, not {spec.ElementCount}.");
        }

        var src = model.Tensors;
        var folded = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (!c.IsDense)
            folded["embedding.weight"] = (float[])src["embedding.weight"].Clone();

        int width = c.InputWidth;
        for (int i = 0; i < c.HiddenWidths.Count; i++)
        {
            string p = $"hidden.{i}";
            int output = c.HiddenWidths[i];
            src.TryGetValue($"{p}.linear.bias", out var bias);
            if (post && c.HiddenBatchNorm)
            {
                var (w, b) = FoldIntoLinear(src[$"{p}.linear.weight"], bias, Norm(src, $"{p}.norm"), c.BatchNormEpsilon, output, width);
                folded[$"{p}.linear.weight"] = w;
                folded[$"{p}.linear.bias"] = b;
            }
            else
            {
                folded[$"{p}.linear.weight"] = (float[])src[$"{p}.linear.weight"].Clone();
                if (bias is not null) folded[$"{p}.linear.bias"] = (float[])bias.Clone();
                if (!post && c.HiddenBatchNorm && i > 0)
                {
                    var (scale, shift) = ToAffine(Norm(src, $"{p}.norm"), c.BatchNormEpsilon);
                    folded[$"{p}.affine.weight"] = scale;
                    folded[$"{p}.affine.bias"] = shift;
                }
            }
            width = output;
        }

        src.TryGetValue("output.bias", out var outputBias);
        if (c.OutputBatchNorm)
        {
            var (w, b) = FoldIntoLinear(src["output.weight"], outputBias, Norm(src, "output_norm"), c.BatchNormEpsilon, c.OutputWidth, width);
            folded["output.weight"] = w;
            folded["output.bias"] = b;
        }
        else
        {
            folded["output.weight"] = (float[])src["output.weight"].Clone();
            if (outputBias is not null) folded["output.bias"] = (float[])outputBias.Clone();
        }
        return model with { Folded = true, Tensors = folded };
    }

    /// <summary>The four tensors of one BatchNorm1d.</summary>
    internal readonly record struct NormTensors(float[] Gamma, float[] Beta, float[] Mean, float[] Var, string Prefix);

    private static NormTensors Norm(IReadOnlyDictionary<string, float[]> t, string prefix) =>
        new(t[$"{prefix}.weight"], t[$"{prefix}.bias"], t[$"{prefix}.running_mean"], t[$"{prefix}.running_var"], prefix);

    /// <summary>bn(x·Wᵀ + b) as x·W'ᵀ + b'. W is [outputs, inputs]; bias may be null (zero).</summary>
    internal static (float[] Weight, float[] Bias) FoldIntoLinear(float[] weight, float[]? bias, NormTensors norm, float eps, int outputs, int inputs)
    {
        var w = new float[outputs * inputs]; // [out, in]
        var b = new float[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double s = Scale(norm, o, eps);
            for (int k = 0; k < inputs; k++)
                w[o * inputs + k] = (float)(weight[o * inputs + k] * s);
            double b0 = bias is null ? 0.0 : bias[o];
            b[o] = (float)((b0 - norm.Mean[o]) * s + norm.Beta[o]);
        }
        return (w, b);
    }

    /// <summary>bn(x) as x * scale + shift, per feature.</summary>
    internal static (float[] Scale, float[] Shift) ToAffine(NormTensors norm, float eps)
    {
        int n = norm.Gamma.Length;
        var scale = new float[n];
        var shift = new float[n];
        for (int j = 0; j < n; j++)
        {
            double s = Scale(norm, j, eps);
            scale[j] = (float)s;
            shift[j] = (float)(norm.Beta[j] - norm.Mean[j] * s);
        }
        return (scale, shift);
    }

    private static double Scale(NormTensors norm, int j, float eps)
    {
        double variance = norm.Var[j];
        if (!(variance >= 0) || !double.IsFinite(variance) || !float.IsFinite(norm.Mean[j]))
            throw new InvalidOperationException($"Cannot fold: '{norm.Prefix}' has running statistics mean {norm.Mean[j]}, variance {norm.Var[j]} at feature {j}; variance must be finite and non-negative.");
        return norm.Gamma[j] / Math.Sqrt(variance + eps);
    }
}
