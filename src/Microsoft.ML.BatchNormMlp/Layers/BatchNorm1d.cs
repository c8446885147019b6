using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Microsoft.ML.BatchNormMlp.Layers;

/// <summary>
/// BatchNorm1d with PyTorch's semantics, fused with the nonlinearity that follows it (<c>y = f(bn(x))</c>): the
/// batch statistics take one pass over [B, H], normalization another, and backward recomputes f' and x̂ on the fly
/// in its two passes instead of storing them.
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
    private readonly float[] _dz;                     // [H] one row of backward scratch (eval mode)
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
        _sumDz = new float[width]; _sumDzXhat = new float[width]; _dz = new float[width];
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
    /// Evaluation-mode <c>y = f(bn(x))</c> from the running statistics that writes no layer state (only
    /// <paramref name="scale"/>, the caller's [H] scratch), so that many threads may run it at once. Bit-identical
    /// to <see cref="Forward"/> with <c>training: false</c>.
    /// </summary>
    public void Infer(ReadOnlySpan<float> x, Span<float> y, int batch, Nonlinearity f, Span<float> scale) // x, y [B, H]
    {
        int h = Width, n = batch * h;
        if (x.Length < n || y.Length < n) throw new ArgumentException($"BatchNorm '{Weight.Name}' got spans shorter than [{batch}, {h}].");
        if (scale.Length < h) throw new ArgumentException($"BatchNorm '{Weight.Name}' needs {h} floats of scratch, got {scale.Length}.", nameof(scale));
        var s = scale[..h];
        InverseStd(RunningVar.Data, Epsilon, s);
        TensorPrimitives.Multiply(Weight.Data, s, s);
        for (int r = 0; r < batch; r++)
            Normalize(x.Slice(r * h, h), RunningMean.Data, s, Bias.Data, y.Slice(r * h, h));
        NonlinearityKernels.Apply(f, y[..n]);
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
            UpdateRunningStatistics(batch);
        }
        else
        {
            RunningMean.Data.CopyTo(_mean, 0);
            InverseStd(RunningVar.Data, Epsilon, _invStd);
        }
        TensorPrimitives.Multiply(Weight.Data, _invStd, _scale);
        for (int r = 0; r < batch; r++)
            Normalize(x.Slice(r * h, h), _mean, _scale, Bias.Data, y.Slice(r * h, h));
        NonlinearityKernels.Apply(f, y[..n]);   // one call over [B, H]: measured cheaper than a call per row
    }

    // One pass over [B, H]: sums of d = x - x[0] and of d². Shifting by the first row keeps Σd² - (Σd)²/B from
    // cancelling the way Σx² - (Σx)²/B does when the mean is large against the spread.
    private void BatchStatistics(ReadOnlySpan<float> x, int batch)
    {
        int h = Width;
        var shift = x[..h];
        var s1 = _mean.AsSpan(); var s2 = _batchVar.AsSpan();
        s1.Clear(); s2.Clear();
        for (int r = 1; r < batch; r++) AddShiftedMoments(x.Slice(r * h, h), shift, s1, s2);
        // mean = shift + s1/B; biased var = max(s2/B - (s1/B)², 0); invStd = 1/√(var + eps)
        float invB = 1f / batch, eps = Epsilon;
        int i = 0;
        ref float pk = ref MemoryMarshal.GetReference(shift);
        ref float p1 = ref MemoryMarshal.GetReference(s1); ref float p2 = ref MemoryMarshal.GetReference(s2);
        ref float pis = ref MemoryMarshal.GetReference(_invStd.AsSpan());
        for (; i <= h - Vector<float>.Count; i += Vector<float>.Count)
        {
            var u = (nuint)i;
            var m = Vector.LoadUnsafe(ref p1, u) * invB;
            var v = Vector.Max(Vector.LoadUnsafe(ref p2, u) * invB - m * m, Vector<float>.Zero);
            (Vector.LoadUnsafe(ref pk, u) + m).StoreUnsafe(ref p1, u);
            v.StoreUnsafe(ref p2, u);
            (Vector<float>.One / Vector.SquareRoot(v + new Vector<float>(eps))).StoreUnsafe(ref pis, u);
        }
        for (; i < h; i++)
        {
            float m = s1[i] * invB;
            float v = MathF.Max(s2[i] * invB - m * m, 0);
            s1[i] = shift[i] + m;
            s2[i] = v;
            _invStd[i] = 1 / MathF.Sqrt(v + eps);
        }
    }

    // running = (1 - momentum)·running + momentum·batch, with the unbiased variance var·B/(B - 1).
    private void UpdateRunningStatistics(int batch)
    {
        float m = Momentum, keep = 1 - m, unbias = batch / (batch - 1f);
        var rm = RunningMean.Data.AsSpan(); var rv = RunningVar.Data.AsSpan();
        int h = Width, i = 0;
        ref float prm = ref MemoryMarshal.GetReference(rm); ref float prv = ref MemoryMarshal.GetReference(rv);
        ref float pm = ref MemoryMarshal.GetReference(_mean.AsSpan()); ref float pv = ref MemoryMarshal.GetReference(_batchVar.AsSpan());
        for (; i <= h - Vector<float>.Count; i += Vector<float>.Count)
        {
            var u = (nuint)i;
            (Vector.LoadUnsafe(ref prm, u) * keep + Vector.LoadUnsafe(ref pm, u) * m).StoreUnsafe(ref prm, u);
            (Vector.LoadUnsafe(ref prv, u) * keep + Vector.LoadUnsafe(ref pv, u) * unbias * m).StoreUnsafe(ref prv, u);
        }
        for (; i < h; i++)
        {
            rm[i] = keep * rm[i] + m * _mean[i];
            rv[i] = keep * rv[i] + _batchVar[i] * unbias * m;
        }
    }

    private static void InverseStd(ReadOnlySpan<float> var, float eps, Span<float> invStd)
    {
        TensorPrimitives.Add(var, eps, invStd);
        TensorPrimitives.Sqrt(invStd, invStd);
        TensorPrimitives.Divide(1f, invStd, invStd);
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
        var dz = _dz.AsSpan();
        sumDz.Clear(); sumDzXhat.Clear();
        for (int r = 0; r < batch; r++)
            AddGradientSums(f, x.Slice(r * h, h), y.Slice(r * h, h), dy.Slice(r * h, h), _mean, _invStd, sumDz, sumDzXhat);
        sumDzXhat.CopyTo(Weight.Grad);
        sumDz.CopyTo(Bias.Grad);

        if (_lastTraining)
        {
            // dx = gamma·invStd·(dz - mean(dz) - xhat·mean(dz·xhat)): the batch statistics depend on every row.
            TensorPrimitives.Multiply(sumDz, 1f / batch, sumDz);
            TensorPrimitives.Multiply(sumDzXhat, 1f / batch, sumDzXhat);
            for (int r = 0; r < batch; r++)
                BatchInputGradient(f, x.Slice(r * h, h), y.Slice(r * h, h), dy.Slice(r * h, h), _mean, _invStd, _scale, sumDz, sumDzXhat, dx.Slice(r * h, h), accumulateDx);
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

    // s1 += x - shift; s2 += (x - shift)²
    private static void AddShiftedMoments(ReadOnlySpan<float> x, ReadOnlySpan<float> shift, Span<float> s1, Span<float> s2)
    {
        int n = s1.Length, i = 0;
        ref float px = ref MemoryMarshal.GetReference(x); ref float pk = ref MemoryMarshal.GetReference(shift);
        ref float p1 = ref MemoryMarshal.GetReference(s1); ref float p2 = ref MemoryMarshal.GetReference(s2);
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            var u = (nuint)i;
            var d = Vector.LoadUnsafe(ref px, u) - Vector.LoadUnsafe(ref pk, u);
            (Vector.LoadUnsafe(ref p1, u) + d).StoreUnsafe(ref p1, u);
            (Vector.LoadUnsafe(ref p2, u) + d * d).StoreUnsafe(ref p2, u);
        }
        for (; i < n; i++) { float d = x[i] - shift[i]; s1[i] += d; s2[i] += d * d; }
    }

    // dz = f'(y)·dy; sumDz += dz; sumDzXhat += dz·(x - mean)·invStd
    private static void AddGradientSums(Nonlinearity f, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd,
        Span<float> sumDz, Span<float> sumDzXhat)
    {
        int n = sumDz.Length, i = 0;
        ref float px = ref MemoryMarshal.GetReference(x); ref float py = ref MemoryMarshal.GetReference(y);
        ref float pdy = ref MemoryMarshal.GetReference(dy); ref float pm = ref MemoryMarshal.GetReference(mean);
        ref float pis = ref MemoryMarshal.GetReference(invStd);
        ref float p1 = ref MemoryMarshal.GetReference(sumDz); ref float p2 = ref MemoryMarshal.GetReference(sumDzXhat);
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            var u = (nuint)i;
            var dz = Derivative(f, Vector.LoadUnsafe(ref py, u), Vector.LoadUnsafe(ref pdy, u));
            var xhat = (Vector.LoadUnsafe(ref px, u) - Vector.LoadUnsafe(ref pm, u)) * Vector.LoadUnsafe(ref pis, u);
            (Vector.LoadUnsafe(ref p1, u) + dz).StoreUnsafe(ref p1, u);
            (Vector.LoadUnsafe(ref p2, u) + dz * xhat).StoreUnsafe(ref p2, u);
        }
        for (; i < n; i++)
        {
            float dz = Derivative(f, y[i], dy[i]);
            sumDz[i] += dz;
            sumDzXhat[i] += dz * (x[i] - mean[i]) * invStd[i];
        }
    }

    private static Vector<float> Derivative(Nonlinearity f, Vector<float> y, Vector<float> dy) => f switch
    {
        Nonlinearity.Tanh => dy - dy * y * y,
        Nonlinearity.Relu => Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<float>.Zero), dy, Vector<float>.Zero),
        _ => dy,
    };

    private static float Derivative(Nonlinearity f, float y, float dy) => f switch
    {
        Nonlinearity.Tanh => dy - dy * y * y,
        Nonlinearity.Relu => y > 0 ? dy : 0,
        _ => dy,
    };

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

    // dx (+)= scale·(dz - m1 - xhat·m2), dz = f'(y)·dy, xhat = (x - mean)·invStd
    private static void BatchInputGradient(Nonlinearity f, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> m1, ReadOnlySpan<float> m2, Span<float> dx, bool accumulate)
    {
        int n = dx.Length, i = 0;
        ref float px = ref MemoryMarshal.GetReference(x); ref float py = ref MemoryMarshal.GetReference(y);
        ref float pdy = ref MemoryMarshal.GetReference(dy);
        ref float pm = ref MemoryMarshal.GetReference(mean); ref float pis = ref MemoryMarshal.GetReference(invStd);
        ref float ps = ref MemoryMarshal.GetReference(scale); ref float pm1 = ref MemoryMarshal.GetReference(m1);
        ref float pm2 = ref MemoryMarshal.GetReference(m2); ref float pdx = ref MemoryMarshal.GetReference(dx);
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            var u = (nuint)i;
            var dz = Derivative(f, Vector.LoadUnsafe(ref py, u), Vector.LoadUnsafe(ref pdy, u));
            var xhat = (Vector.LoadUnsafe(ref px, u) - Vector.LoadUnsafe(ref pm, u)) * Vector.LoadUnsafe(ref pis, u);
            var g = Vector.LoadUnsafe(ref ps, u) * (dz - Vector.LoadUnsafe(ref pm1, u) - xhat * Vector.LoadUnsafe(ref pm2, u));
            if (accumulate) g += Vector.LoadUnsafe(ref pdx, u);
            g.StoreUnsafe(ref pdx, u);
        }
        for (; i < n; i++)
        {
            float xhat = (x[i] - mean[i]) * invStd[i];
            float g = scale[i] * (Derivative(f, y[i], dy[i]) - m1[i] - xhat * m2[i]);
            dx[i] = accumulate ? dx[i] + g : g;
        }
    }
}
