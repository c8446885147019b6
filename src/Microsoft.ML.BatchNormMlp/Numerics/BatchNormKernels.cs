using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Microsoft.ML.BatchNormMlp.Numerics;

/// <summary>
/// Fused BatchNorm1d kernels on row-major [B, H] batches, with PyTorch's semantics: training normalizes with the
/// batch mean and the biased variance and moves the running statistics by <c>momentum</c> towards the batch mean and
/// the unbiased variance; inference uses the running statistics. An optional activation is fused after the affine
/// transform (post-activation blocks: <c>tanh(bn(z))</c>).
/// How: 16 columns at a time (a zmm register; the last block is masked), each pass walking the B rows, so the
/// statistics of a column block never leave registers; column sums run in row order, hence deterministically.
/// Nothing is allocated. Backward recomputes x̂ from x, mean and 1/σ instead of storing it.
/// </summary>
internal static unsafe class BatchNormKernels
{
    /// <summary>
    /// y = act(γ·(x − μ)/√(σ² + eps) + β) with μ, σ² the batch mean and biased variance of each column; writes
    /// <paramref name="mean"/> and <paramref name="invStd"/> (1/√(σ² + eps)), which backward needs. When
    /// <paramref name="runningMean"/>/<paramref name="runningVar"/> are not empty they are updated in place:
    /// r ← (1 − momentum)·r + momentum·batch statistic (the variance unbiased, ·B/(B − 1)).
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short (the message names it), or batch is below 2.</exception>
    public static void ForwardTraining(ReadOnlySpan<float> x, Span<float> y, int batch, int features,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> mean, Span<float> invStd,
        Span<float> runningMean, Span<float> runningVar, float momentum = 0.1f, float eps = 1e-5f,
        FusedActivation activation = FusedActivation.None)
        => ForwardTraining(x, y, batch, features, gamma, beta, mean, invStd, runningMean, runningVar, momentum, eps, activation, Level);

    /// <summary>
    /// Gradients of <see cref="ForwardTraining(ReadOnlySpan{float}, Span{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, Span{float}, float, float, FusedActivation)"/>
    /// given dy (the gradient at its output y): dx (+)= ∂L/∂x, and dGamma = Σ dz·x̂, dBeta = Σ dz (overwritten), where
    /// dz is dy taken back through the fused activation (which needs <paramref name="y"/>; with
    /// <see cref="FusedActivation.None"/> y may be empty). dx may be the same buffer as dy.
    /// </summary>
    public static void BackwardTraining(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx,
        int batch, int features, ReadOnlySpan<float> gamma, ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd,
        Span<float> dGamma, Span<float> dBeta, FusedActivation activation = FusedActivation.None, bool accumulate = false)
        => BackwardTraining(x, y, dy, dx, batch, features, gamma, mean, invStd, dGamma, dBeta, activation, accumulate, Level);

    /// <summary>y = act(γ·(x − running mean)/√(running var + eps) + β): evaluation mode.</summary>
    public static void ForwardInference(ReadOnlySpan<float> x, Span<float> y, int batch, int features,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar,
        float eps = 1e-5f, FusedActivation activation = FusedActivation.None)
        => ForwardInference(x, y, batch, features, gamma, beta, runningMean, runningVar, eps, activation, Level);

    // The masked column blocks need AVX-512; elsewhere the scalar loops run (tests force them here too).
    private static SimdLevel Level => Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? SimdLevel.Vector512 : SimdLevel.Scalar;

    internal static void ForwardTraining(ReadOnlySpan<float> x, Span<float> y, int batch, int features,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> mean, Span<float> invStd,
        Span<float> runningMean, Span<float> runningVar, float momentum, float eps, FusedActivation activation, SimdLevel level)
    {
        CheckShape(batch, features);
        if (batch < 2)
            throw new ArgumentException($"BatchNorm in training needs more than 1 row per batch to estimate a variance, got {batch}.", nameof(batch));
        long size = (long)batch * features;
        Check(x.Length, size, nameof(x)); Check(y.Length, size, nameof(y));
        Check(gamma.Length, features, nameof(gamma)); Check(beta.Length, features, nameof(beta));
        Check(mean.Length, features, nameof(mean)); Check(invStd.Length, features, nameof(invStd));
        bool updateRunning = !runningMean.IsEmpty || !runningVar.IsEmpty;
        if (updateRunning) { Check(runningMean.Length, features, nameof(runningMean)); Check(runningVar.Length, features, nameof(runningVar)); }

        float unbias = batch / (float)(batch - 1);
        fixed (float* px = x, py = y, pg = gamma, pb = beta, pm = mean, ps = invStd, prm = runningMean, prv = runningVar)
        {
            int j = 0;
            if (level == SimdLevel.Vector512)
            {
                var vb = Vector512.Create((float)batch);
                for (; j < features; j += 16)
                {
                    var mask = Mask(features - j);
                    var sum = Vector512<float>.Zero;
                    for (int i = 0; i < batch; i++) sum += Load(px + (long)i * features + j, mask);
                    var mu = sum / vb;
                    var sq = Vector512<float>.Zero;
                    for (int i = 0; i < batch; i++)
                    {
                        var d = Load(px + (long)i * features + j, mask) - mu;
                        sq = Vector512.FusedMultiplyAdd(d, d, sq);
                    }
                    var variance = sq / vb;
                    var inv = Vector512<float>.One / Vector512.Sqrt(variance + Vector512.Create(eps));
                    var scale = Load(pg + j, mask) * inv;
                    var shift = Load(pb + j, mask);
                    for (int i = 0; i < batch; i++)
                    {
                        float* row = px + (long)i * features + j;
                        Store(py + (long)i * features + j, Vector512.FusedMultiplyAdd(Load(row, mask) - mu, scale, shift), mask);
                    }
                    Store(pm + j, mu, mask);
                    Store(ps + j, inv, mask);
                    if (updateRunning)
                    {
                        var keep = Vector512.Create(1 - momentum); var take = Vector512.Create(momentum);
                        Store(prm + j, keep * Load(prm + j, mask) + take * mu, mask);
                        Store(prv + j, keep * Load(prv + j, mask) + take * (variance * Vector512.Create(unbias)), mask);
                    }
                }
            }
            else
            {
                for (; j < features; j++)
                {
                    float sum = 0;
                    for (int i = 0; i < batch; i++) sum += px[(long)i * features + j];
                    float mu = sum / batch, sq = 0;
                    for (int i = 0; i < batch; i++) { float d = px[(long)i * features + j] - mu; sq = MathF.FusedMultiplyAdd(d, d, sq); }
                    float variance = sq / batch, inv = 1f / MathF.Sqrt(variance + eps);
                    float scale = pg[j] * inv, shift = pb[j];
                    for (int i = 0; i < batch; i++)
                        py[(long)i * features + j] = MathF.FusedMultiplyAdd(px[(long)i * features + j] - mu, scale, shift);
                    pm[j] = mu; ps[j] = inv;
                    if (updateRunning)
                    {
                        prm[j] = (1 - momentum) * prm[j] + momentum * mu;
                        prv[j] = (1 - momentum) * prv[j] + momentum * (variance * unbias);
                    }
                }
            }
        }
        if (activation != FusedActivation.None) Activations.Forward(activation, y[..(int)size], y, level);
    }

    internal static void BackwardTraining(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx,
        int batch, int features, ReadOnlySpan<float> gamma, ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd,
        Span<float> dGamma, Span<float> dBeta, FusedActivation activation, bool accumulate, SimdLevel level)
    {
        CheckShape(batch, features);
        long size = (long)batch * features;
        Check(x.Length, size, nameof(x)); Check(dy.Length, size, nameof(dy)); Check(dx.Length, size, nameof(dx));
        if (activation != FusedActivation.None) Check(y.Length, size, nameof(y));
        Check(gamma.Length, features, nameof(gamma)); Check(mean.Length, features, nameof(mean));
        Check(invStd.Length, features, nameof(invStd));
        Check(dGamma.Length, features, nameof(dGamma)); Check(dBeta.Length, features, nameof(dBeta));
        if (batch == 0) { dGamma[..features].Clear(); dBeta[..features].Clear(); return; }

        fixed (float* px = x, py = y, pdy = dy, pdx = dx, pg = gamma, pm = mean, ps = invStd, pdg = dGamma, pdb = dBeta)
        {
            if (level == SimdLevel.Vector512)
            {
                var vb = Vector512.Create((float)batch);
                for (int j = 0; j < features; j += 16)
                {
                    var mask = Mask(features - j);
                    var mu = Load(pm + j, mask); var inv = Load(ps + j, mask);
                    Vector512<float> sumDz = Vector512<float>.Zero, sumDzXhat = Vector512<float>.Zero;
                    for (int i = 0; i < batch; i++)
                    {
                        long at = (long)i * features + j;
                        var xhat = (Load(px + at, mask) - mu) * inv;
                        var dz = Dz(activation, Load(pdy + at, mask), py + at, mask);
                        sumDz += dz;
                        sumDzXhat = Vector512.FusedMultiplyAdd(dz, xhat, sumDzXhat);
                    }
                    Store(pdb + j, sumDz, mask);
                    Store(pdg + j, sumDzXhat, mask);
                    // dx = γ/σ · (dz − mean(dz) − x̂·mean(dz·x̂))
                    var k1 = Load(pg + j, mask) * inv; var k2 = sumDz / vb; var k3 = sumDzXhat / vb;
                    for (int i = 0; i < batch; i++)
                    {
                        long at = (long)i * features + j;
                        var xhat = (Load(px + at, mask) - mu) * inv;
                        var dz = Dz(activation, Load(pdy + at, mask), py + at, mask);
                        var g = k1 * (dz - k2 - xhat * k3);
                        if (accumulate) g += Load(pdx + at, mask);
                        Store(pdx + at, g, mask);
                    }
                }
            }
            else
            {
                for (int j = 0; j < features; j++)
                {
                    float mu = pm[j], inv = ps[j], sumDz = 0, sumDzXhat = 0;
                    for (int i = 0; i < batch; i++)
                    {
                        long at = (long)i * features + j;
                        float xhat = (px[at] - mu) * inv, dz = Dz(activation, pdy[at], py, at);
                        sumDz += dz;
                        sumDzXhat = MathF.FusedMultiplyAdd(dz, xhat, sumDzXhat);
                    }
                    pdb[j] = sumDz; pdg[j] = sumDzXhat;
                    float k1 = pg[j] * inv, k2 = sumDz / batch, k3 = sumDzXhat / batch;
                    for (int i = 0; i < batch; i++)
                    {
                        long at = (long)i * features + j;
                        float xhat = (px[at] - mu) * inv, dz = Dz(activation, pdy[at], py, at);
                        float g = k1 * (dz - k2 - xhat * k3);
                        pdx[at] = accumulate ? pdx[at] + g : g;
                    }
                }
            }
        }
    }

    internal static void ForwardInference(ReadOnlySpan<float> x, Span<float> y, int batch, int features,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar,
        float eps, FusedActivation activation, SimdLevel level)
    {
        CheckShape(batch, features);
        long size = (long)batch * features;
        Check(x.Length, size, nameof(x)); Check(y.Length, size, nameof(y));
        Check(gamma.Length, features, nameof(gamma)); Check(beta.Length, features, nameof(beta));
        Check(runningMean.Length, features, nameof(runningMean)); Check(runningVar.Length, features, nameof(runningVar));
        fixed (float* px = x, py = y, pg = gamma, pb = beta, prm = runningMean, prv = runningVar)
        {
            if (level == SimdLevel.Vector512)
            {
                for (int j = 0; j < features; j += 16)
                {
                    var mask = Mask(features - j);
                    var scale = Load(pg + j, mask) / Vector512.Sqrt(Load(prv + j, mask) + Vector512.Create(eps));
                    var mu = Load(prm + j, mask); var shift = Load(pb + j, mask);
                    for (int i = 0; i < batch; i++)
                    {
                        long at = (long)i * features + j;
                        Store(py + at, Vector512.FusedMultiplyAdd(Load(px + at, mask) - mu, scale, shift), mask);
                    }
                }
            }
            else
            {
                for (int j = 0; j < features; j++)
                {
                    float scale = pg[j] / MathF.Sqrt(prv[j] + eps), mu = prm[j], shift = pb[j];
                    for (int i = 0; i < batch; i++)
                    {
                        long at = (long)i * features + j;
                        py[at] = MathF.FusedMultiplyAdd(px[at] - mu, scale, shift);
                    }
                }
            }
        }
        if (activation != FusedActivation.None) Activations.Forward(activation, y[..(int)size], y, level);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Dz(FusedActivation activation, Vector512<float> dy, float* y, Vector512<float> mask)
    {
        if (activation == FusedActivation.None) return dy;
        var vy = Load(y, mask);
        return activation == FusedActivation.Tanh
            ? dy * (Vector512<float>.One - vy * vy)
            : Vector512.ConditionalSelect(Vector512.GreaterThan(vy, Vector512<float>.Zero), dy, Vector512<float>.Zero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dz(FusedActivation activation, float dy, float* y, long at)
        => activation switch { FusedActivation.Tanh => dy * (1 - y[at] * y[at]), FusedActivation.Relu => y[at] > 0 ? dy : 0, _ => dy };

    // All lanes when 16 or more columns remain, else the first `remaining`.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Mask(int remaining)
        => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(remaining)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load(float* p, Vector512<float> mask) => Avx512F.MaskLoad(p, mask, Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* p, Vector512<float> v, Vector512<float> mask) => Avx512F.MaskStore(p, mask, v);

    private static void CheckShape(int batch, int features)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(features);
    }

    private static void Check(int actual, long required, string name)
    {
        if (actual < required)
            throw new ArgumentException($"Span '{name}' holds {actual} floats but the batch needs {required}.", name);
    }
}
