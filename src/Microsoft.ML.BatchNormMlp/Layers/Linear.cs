using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Layers;

/// <summary>y = x·Wᵀ + b with W stored [out, in] as PyTorch does; the bias is optional (redundant before a BatchNorm).</summary>
internal sealed class Linear
{
    public Linear(string name, int inputs, int outputs, bool bias)
    {
        if (inputs <= 0 || outputs <= 0)
            throw new ArgumentException($"Linear '{name}' needs positive widths (in {inputs}, out {outputs}).");
        Weight = new Parameter($"{name}.weight", [outputs, inputs]);
        Bias = bias ? new Parameter($"{name}.bias", [outputs]) : null;
        Inputs = inputs;
        Outputs = outputs;
    }

    public Parameter Weight { get; }

    public Parameter? Bias { get; }

    public int Inputs { get; }

    public int Outputs { get; }

    /// <summary>y (+)= x·Wᵀ + b. With <paramref name="accumulate"/> the result is added to y (a residual stream).</summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int batch, bool accumulate = false, int threads = 1) // x [B, in], y [B, out]
    {
        // The GEMM adds the bias as it stores each tile: no second pass over y.
        Gemm.MultiplyNT(x[..(batch * Inputs)], Weight.Data, y[..(batch * Outputs)], batch, Outputs, Inputs, accumulate, threads, Bias is null ? default : Bias.Data);
    }

    /// <summary>
    /// Writes dW = dyᵀ·x and db = Σ_rows dy; when <paramref name="dx"/> is non-empty also dx (+)= dy·W
    /// (accumulating where the input also feeds a residual path).
    /// </summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int batch, bool accumulateDx = false, int threads = 1) // x [B, in], dy [B, out], dx [B, in]
    {
        var dyb = dy[..(batch * Outputs)];
        Gemm.MultiplyTN(dyb, x[..(batch * Inputs)], Weight.Grad, Outputs, Inputs, batch, accumulate: false, threads);
        if (Bias is not null) ColumnSums.Add(dyb, batch, Outputs, Bias.Grad);
        if (!dx.IsEmpty)
            Gemm.MultiplyNN(dyb, Weight.Data, dx[..(batch * Inputs)], batch, Inputs, Outputs, accumulateDx, threads);
    }
}
