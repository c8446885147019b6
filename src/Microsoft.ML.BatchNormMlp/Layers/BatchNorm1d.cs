using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Microsoft.ML.BatchNormMlp.Layers;

/// <summary>
/// BatchNorm1d with PyTorch's semantics, fused with the nonlinearity that follows it (<c>y = f(bn(x))</c>) so that
/// normalization and activation are one pass over [B, H].
/// Training: normalize with the batch mean and the biased batch variance; update
/// <c>running = (1 - momentum)·running + momentum·batch</c> with the unbiased variance.
/// Evaluation: normalize with the running statistics.
/// <see cref="Calibrate"/> replaces the running statistics by those of a whole data set (the second seed).
/// </summary>
internal sealed class BatchNorm1d
{
    private readonly float[] _mean, _invStd;          // [H] statistics the last forward normalized with
    private readonly float[] _batchVar;               // [H] biased batch variance
    private readonly float[] _scale;                  // [H] gamma · invStd
    private readonly float[] _sumDz, _sumDzXhat;      // [H] backward reductions
    private readonly float[] _dz, _xhat;              // [H] one row of backward scratch
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
        _mean = new float[width]; _batchVar = new float[width]; _invStd = new float[width]; _scale = new float[width];
        _sumDz = new float[width]; _sumDzXhat = new float[width]; _dz = new float[width]; _xhat = new float[width];
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

    /// <summary>y = f(gamma·(x - mean)/sqrt(var + eps) + beta).</summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int batch, bool training, Nonlinearity f = Nonlinearity.Identity) // x, y [B, H]
    {
        int h = Width, n = batch * h;
        if (x.Length < n || y.Length < n) throw new ArgumentException($"BatchNorm '{Weight.Name}' got spans shorter than [{batch}, {h}].");
        _lastTraining = training;
        _lastBatch = batch;
        if (training)
        {
            if (batch < 2)
                throw new ArgumentException($"BatchNorm '{Weight.Name}' needs more than 1 row per batch in training mode (got {batch}): a single row has no variance.");
            BatchStatistics(x, batch);
            float m = Momentum, unbias = batch / (batch - 1f);
            var rm = RunningMean.Data; var rv = RunningVar.Data;
            for (int j = 0; j < h; j++)
            {
                rm[j] = (1 - m) * rm[j] + m * _mean[j];
                rv[j] = (1 - m) * rv[j] + m * _batchVar[j] * unbias;
            }
        }
        else
        {
            var rm = RunningMean.Data; var rv = RunningVar.Data;
            for (int j = 0; j < h; j++)
            {
                _mean[j] = rm[j];
                _invStd[j] = 1 / MathF.Sqrt(rv[j] + Epsilon);
            }
        }
        TensorPrimitives.Multiply(Weight.Data, _invStd, _scale);
        for (int r = 0; r < batch; r++)
            Normalize(x.Slice(r * h, h), _mean, _scale, Bias.Data, y.Slice(r * h, h));
        NonlinearityKernels.Apply(f, y[..n]);
    }

    // Two passes (mean, then squared deviations) rather than Σx² - (Σx)²/B, which cancels badly in float.
    private void BatchStatistics(ReadOnlySpan<float> x, int batch)
    {
        int h = Width;
        var mean = _mean.AsSpan(); var var = _batchVar.AsSpan();
        mean.Clear(); var.Clear();
        for (int r = 0; r < batch; r++) TensorPrimitives.Add(mean, x.Slice(r * h, h), mean);
        TensorPrimitives.Multiply(mean, 1f / batch, mean);
        for (int r = 0; r < batch; r++) AddSquaredDeviation(x.Slice(r * h, h), mean, var);
        TensorPrimitives.Multiply(var, 1f / batch, var);  // biased: what training normalizes with
        for (int j = 0; j < h; j++) _invStd[j] = 1 / MathF.Sqrt(var[j] + Epsilon);
    }

    /// <summary>
    /// Writes dgamma and dbeta, and dx (+)= ∂L/∂x given dy = ∂L/∂y and the forward's x and y
    /// (the nonlinearity's derivative is taken from y). Uses the statistics of the last forward call.
    /// </summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int batch, Nonlinearity f = Nonlinearity.Identity, bool accumulateDx = false)
    {
        int h = Width;
        if (batch != _lastBatch) throw new InvalidOperationException($"BatchNorm '{Weight.Name}': backward for {batch} rows after a forward of {_lastBatch}.");
        var sumDz = _sumDz.AsSpan(); var sumDzXhat = _sumDzXhat.AsSpan();
        var dz = _dz.AsSpan(); var xhat = _xhat.AsSpan();
        sumDz.Clear(); sumDzXhat.Clear();
        for (int r = 0; r < batch; r++)
        {
            NonlinearityKernels.Backward(f, y.Slice(r * h, h), dy.Slice(r * h, h), dz);
            TensorPrimitives.Subtract(x.Slice(r * h, h), _mean, xhat);
            TensorPrimitives.Multiply(xhat, _invStd, xhat);
            TensorPrimitives.Add(sumDz, dz, sumDz);
            TensorPrimitives.MultiplyAdd(dz, xhat, sumDzXhat, sumDzXhat);
        }
        sumDzXhat.CopyTo(Weight.Grad);
        sumDz.CopyTo(Bias.Grad);

        if (_lastTraining)
        {
            // dx = gamma·invStd·(dz - mean(dz) - xhat·mean(dz·xhat)): the batch statistics depend on every row.
            TensorPrimitives.Multiply(sumDz, 1f / batch, sumDz);
            TensorPrimitives.Multiply(sumDzXhat, 1f / batch, sumDzXhat);
            for (int r = 0; r < batch; r++)
            {
                NonlinearityKernels.Backward(f, y.Slice(r * h, h), dy.Slice(r * h, h), dz);
                BatchInputGradient(x.Slice(r * h, h), dz, _mean, _invStd, _scale, sumDz, sumDzXhat, dx.Slice(r * h, h), accumulateDx);
            }
        }
        else
        {
            // Running statistics are constants: dx = dz·gamma·invStd.
            for (int r = 0; r < batch; r++)
            {
                NonlinearityKernels.Backward(f, y.Slice(r * h, h), dy.Slice(r * h, h), dz);
                var dxr = dx.Slice(r * h, h);
                if (accumulateDx) TensorPrimitives.MultiplyAdd(dz, _scale, dxr, dxr);
                else TensorPrimitives.Multiply(dz, _scale, dxr);
            }
        }
    }

    /// <summary>
    /// Sets the running statistics to the mean and the unbiased variance of <paramref name="x"/> over all its rows
    /// (PyTorch's convention for running_var), accumulated in double in row order.
    /// </summary>
    public void Calibrate(ReadOnlySpan<float> x, int rows) // x [N, H]
    {
        if (rows < 2) throw new ArgumentException($"BatchNorm '{Weight.Name}': calibration needs at least 2 rows, got {rows}.");
        int h = Width;
        var sum = new double[h];
        var sq = new double[h];
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * h, h);
            for (int j = 0; j < h; j++) sum[j] += row[j];
        }
        for (int j = 0; j < h; j++) sum[j] /= rows;
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * h, h);
            for (int j = 0; j < h; j++) { double d = row[j] - sum[j]; sq[j] += d * d; }
        }
        for (int j = 0; j < h; j++)
        {
            RunningMean.Data[j] = (float)sum[j];
            RunningVar.Data[j] = (float)(sq[j] / (rows - 1));
        }
    }

    // var += (x - mean)²
    private static void AddSquaredDeviation(ReadOnlySpan<float> x, ReadOnlySpan<float> mean, Span<float> var)
    {
        int n = var.Length, i = 0;
        ref float px = ref MemoryMarshal.GetReference(x); ref float pm = ref MemoryMarshal.GetReference(mean);
        ref float pv = ref MemoryMarshal.GetReference(var);
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            var d = Vector.LoadUnsafe(ref px, (nuint)i) - Vector.LoadUnsafe(ref pm, (nuint)i);
            (Vector.LoadUnsafe(ref pv, (nuint)i) + d * d).StoreUnsafe(ref pv, (nuint)i);
        }
        for (; i < n; i++) { float d = x[i] - mean[i]; var[i] += d * d; }
    }

    // y = (x - mean)·scale + beta
    private static void Normalize(ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> scale, ReadOnlySpan<float> beta, Span<float> y)
    {
        int n = y.Length, i = 0;
        ref float px = ref MemoryMarshal.GetReference(x); ref float pm = ref MemoryMarshal.GetReference(mean);
        ref float ps = ref MemoryMarshal.GetReference(scale); ref float pb = ref MemoryMarshal.GetReference(beta);
        ref float py = ref MemoryMarshal.GetReference(y);
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = (Vector.LoadUnsafe(ref px, (nuint)i) - Vector.LoadUnsafe(ref pm, (nuint)i)) * Vector.LoadUnsafe(ref ps, (nuint)i) + Vector.LoadUnsafe(ref pb, (nuint)i);
            v.StoreUnsafe(ref py, (nuint)i);
        }
        for (; i < n; i++) y[i] = (x[i] - mean[i]) * scale[i] + beta[i];
    }

    // dx (+)= scale·(dz - m1 - xhat·m2), xhat = (x - mean)·invStd
    private static void BatchInputGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dz, ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, ReadOnlySpan<float> scale,
        ReadOnlySpan<float> m1, ReadOnlySpan<float> m2, Span<float> dx, bool accumulate)
    {
        int n = dx.Length, i = 0;
        ref float px = ref MemoryMarshal.GetReference(x); ref float pdz = ref MemoryMarshal.GetReference(dz);
        ref float pm = ref MemoryMarshal.GetReference(mean); ref float pis = ref MemoryMarshal.GetReference(invStd);
        ref float ps = ref MemoryMarshal.GetReference(scale); ref float pm1 = ref MemoryMarshal.GetReference(m1);
        ref float pm2 = ref MemoryMarshal.GetReference(m2); ref float pdx = ref MemoryMarshal.GetReference(dx);
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            var u = (nuint)i;
            var xhat = (Vector.LoadUnsafe(ref px, u) - Vector.LoadUnsafe(ref pm, u)) * Vector.LoadUnsafe(ref pis, u);
            var g = Vector.LoadUnsafe(ref ps, u) * (Vector.LoadUnsafe(ref pdz, u) - Vector.LoadUnsafe(ref pm1, u) - xhat * Vector.LoadUnsafe(ref pm2, u));
            if (accumulate) g += Vector.LoadUnsafe(ref pdx, u);
            g.StoreUnsafe(ref pdx, u);
        }
        for (; i < n; i++)
        {
            float xhat = (x[i] - mean[i]) * invStd[i];
            float g = scale[i] * (dz[i] - m1[i] - xhat * m2[i]);
            dx[i] = accumulate ? dx[i] + g : g;
        }
    }
}
