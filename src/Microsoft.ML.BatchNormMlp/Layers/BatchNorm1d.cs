using System.Numerics.Tensors;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Layers;

/// <summary>
/// BatchNorm1d with PyTorch's semantics, fused with the activation that follows it (<c>y = f(bn(x))</c>); the
/// arithmetic is <see cref="BatchNormKernels"/>'s (backward recomputes x̂ and f' from x and y instead of storing them).
/// Training: normalize with the batch mean and the biased batch variance; update
/// <c>running = (1 - momentum)·running + momentum·batch</c> with the unbiased variance.
/// Evaluation: normalize with the running statistics.
/// <see cref="Calibrate"/> replaces the running statistics by those of a whole data set (the second seed).
/// </summary>
internal sealed class BatchNorm1d
{
    private readonly float[] _mean, _invStd;          // [H] statistics the last forward normalized with
    private readonly float[] _dz;                     // [H] one row of backward scratch (evaluation mode)
    private bool _lastTraining;
    private int _lastBatch;

    public BatchNorm1d(string name, int width, float epsilon = 1e-5f, float momentum = 0.1f)
    {
        if (width <= 0) throw new ArgumentException($"BatchNorm '{name}' needs a positive width, not {width}.");
        Width = width;
        Epsilon = epsilon;
        Momentum = momentum;
        Weight = new Parameter($"{name}.weight", [width]);
        Bias = new Parameter($"{name}.bias", [width]);
        RunningMean = new NamedTensor($"{name}.running_mean", [width]);
        RunningVar = new NamedTensor($"{name}.running_var", [width]);
        Reset();
        _mean = new float[width]; _invStd = new float[width]; _dz = new float[width];
    }

    public int Width { get; }

    public float Epsilon { get; }

    public float Momentum { get; }

    /// <summary>gamma.</summary>
    public Parameter Weight { get; }

    /// <summary>beta.</summary>
    public Parameter Bias { get; }

    public NamedTensor RunningMean { get; }

    public NamedTensor RunningVar { get; }

    /// <summary>PyTorch's initial state: gamma 1, beta 0, running mean 0, running variance 1.</summary>
    public void Reset()
    {
        Weight.Data.AsSpan().Fill(1);
        Bias.Data.AsSpan().Clear();
        RunningMean.Data.AsSpan().Clear();
        RunningVar.Data.AsSpan().Fill(1);
    }

    /// <summary>
    /// Evaluation-mode <c>y = f(bn(x))</c> from the running statistics that writes no layer state, so that many
    /// threads may run it at once. Bit-identical to <see cref="Forward"/> with <c>training: false</c>.
    /// </summary>
    public void Infer(ReadOnlySpan<float> x, Span<float> y, int batch, FusedActivation f) // x, y [B, H]
    {
        CheckSpans(x, y, batch);
        BatchNormKernels.ForwardInference(x, y, batch, Width, Weight.Data, Bias.Data, RunningMean.Data, RunningVar.Data, Epsilon, f);
    }

    /// <summary>y = f(gamma·(x - mean)/sqrt(var + eps) + beta).</summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int batch, bool training, FusedActivation f = FusedActivation.None) // x, y [B, H]
    {
        CheckSpans(x, y, batch);
        if (training && batch < 2)
            throw new ArgumentException($"BatchNorm '{Weight.Name}' needs more than 1 row per batch in training mode (got {batch}): a single row has no variance.");
        _lastTraining = training;
        _lastBatch = batch;
        if (training)
        {
            BatchNormKernels.ForwardTraining(x, y, batch, Width, Weight.Data, Bias.Data, _mean, _invStd, RunningMean.Data, RunningVar.Data, Momentum, Epsilon, f);
            return;
        }
        BatchNormKernels.ForwardInference(x, y, batch, Width, Weight.Data, Bias.Data, RunningMean.Data, RunningVar.Data, Epsilon, f);
        // What backward needs to treat the running statistics as the constants they are here.
        RunningMean.Data.CopyTo(_mean, 0);
        TensorPrimitives.Add(RunningVar.Data, Epsilon, _invStd);
        TensorPrimitives.ReciprocalSqrt(_invStd, _invStd);
    }

    /// <summary>
    /// Writes dgamma and dbeta, and dx (+)= ∂L/∂x given dy = ∂L/∂y and the forward's x and y
    /// (the activation's derivative is taken from y). Uses the statistics of the last forward call.
    /// </summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int batch, FusedActivation f = FusedActivation.None, bool accumulateDx = false)
    {
        int h = Width;
        if (batch != _lastBatch) throw new InvalidOperationException($"BatchNorm '{Weight.Name}': backward for {batch} rows after a forward of {_lastBatch}.");
        if (_lastTraining)
        {
            BatchNormKernels.BackwardTraining(x, y, dy, dx, batch, h, Weight.Data, _mean, _invStd, Weight.Grad, Bias.Grad, f, accumulateDx);
            return;
        }
        // Running statistics are constants: dx = dz·gamma·invStd; dgamma = Σ dz·x̂, dbeta = Σ dz.
        var dz = _dz.AsSpan();
        var dGamma = Weight.Grad.AsSpan(); var dBeta = Bias.Grad.AsSpan();
        dGamma.Clear(); dBeta.Clear();
        for (int r = 0; r < batch; r++)
        {
            var xr = x.Slice(r * h, h);
            Activations.Backward(f, y.Slice(r * h, h), dy.Slice(r * h, h), dz);
            TensorPrimitives.Add(dBeta, dz, dBeta);
            for (int j = 0; j < h; j++) dGamma[j] += dz[j] * (xr[j] - _mean[j]) * _invStd[j];
            TensorPrimitives.Multiply(dz, _invStd, dz);
            var dxr = dx.Slice(r * h, h);
            if (accumulateDx) TensorPrimitives.MultiplyAdd(dz, Weight.Data, dxr, dxr);
            else TensorPrimitives.Multiply(dz, Weight.Data, dxr);
        }
    }

    /// <summary>
    /// Sets the running statistics to the mean and the unbiased variance (PyTorch's convention for running_var) of
    /// every row <paramref name="moments"/> has seen: the second seed's calibration over a whole data set.
    /// </summary>
    public void Calibrate(ColumnMoments moments)
    {
        ArgumentNullException.ThrowIfNull(moments);
        if (moments.Width != Width) throw new ArgumentException($"BatchNorm '{Weight.Name}' has width {Width}, the statistics {moments.Width}.", nameof(moments));
        if (moments.Count < 2) throw new ArgumentException($"BatchNorm '{Weight.Name}': calibration needs at least 2 rows, got {moments.Count}.", nameof(moments));
        for (int j = 0; j < Width; j++)
        {
            RunningMean.Data[j] = (float)moments.Mean(j);
            RunningVar.Data[j] = (float)moments.UnbiasedVariance(j);
        }
    }

    private void CheckSpans(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int batch)
    {
        int n = batch * Width;
        if (x.Length < n || y.Length < n) throw new ArgumentException($"BatchNorm '{Weight.Name}' got spans shorter than [{batch}, {Width}].");
    }
}
