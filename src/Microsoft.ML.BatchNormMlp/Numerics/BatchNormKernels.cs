using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Microsoft.ML.BatchNormMlp.Numerics;

/// <summary>
/// Fused BatchNorm1d kernels on row-major [B, H] batches, with PyTorch's semantics: training normalizes with the
/// batch mean and the biased variance and moves the running statistics by <c>momentum</c> towards the batch mean and
/// the unbiased variance; inference uses the running statistics. An optional activation is fused after the affine
/// transform (post-activation blocks: <c>tanh(bn(z))</c>).
/// How (training): 16 columns at a time (a zmm register; the last block is masked). Where the rows' cache lines
/// fit in L1 together, each column block walks down the rows with its statistics in registers; where they would
/// alias (rows 2 or 4 KiB apart: width 512 or 1024), each pass walks the batch row by row instead, accumulating the
/// per-column sums in the [H] outputs (mean, invStd, dGamma, dBeta), which stay in L1. Either way each column is
/// reduced in row order with the same operations, so both walks and the scalar path agree bit for bit and results
/// are deterministic. Nothing is allocated. Backward recomputes x̂ from x, mean and 1/σ
/// instead of storing it. Inference keeps the column-block walk (no [H] scratch for the scale).
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
            bool tanh = activation == FusedActivation.Tanh;
            if (level == SimdLevel.Vector512 && ColumnWalkFitsL1(batch, features))
            {
                ForwardColumnWalk(px, py, pg, pb, pm, ps, prm, prv, batch, features, momentum, eps, unbias, updateRunning, tanh);
            }
            else if (level == SimdLevel.Vector512)
            {
                ForwardRowWalk(px, py, pg, pb, pm, ps, prm, prv, batch, features, momentum, eps, unbias, updateRunning, tanh);
            }
            else
            {
                for (int j = 0; j < features; j++) pm[j] = 0;
                for (int i = 0; i < batch; i++)
                    for (int j = 0; j < features; j++) pm[j] += px[(long)i * features + j];
                for (int j = 0; j < features; j++) { pm[j] /= batch; ps[j] = 0; }
                for (int i = 0; i < batch; i++)
                    for (int j = 0; j < features; j++) { float d = px[(long)i * features + j] - pm[j]; ps[j] = MathF.FusedMultiplyAdd(d, d, ps[j]); }
                for (int j = 0; j < features; j++)
                {
                    float variance = ps[j] / batch;
                    ps[j] = 1f / MathF.Sqrt(variance + eps);
                    if (updateRunning)
                    {
                        prm[j] = (1 - momentum) * prm[j] + momentum * pm[j];
                        prv[j] = (1 - momentum) * prv[j] + momentum * (variance * unbias);
                    }
                }
                for (int i = 0; i < batch; i++)
                    for (int j = 0; j < features; j++)
                    {
                        long at = (long)i * features + j;
                        float v = MathF.FusedMultiplyAdd(px[at] - pm[j], pg[j] * ps[j], pb[j]);
                        py[at] = tanh ? Tanh.Compute(v) : v;
                    }
            }
        }
        if (activation == FusedActivation.Relu) Activations.Forward(activation, y[..(int)size], y, level);
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
            if (level == SimdLevel.Vector512 && ColumnWalkFitsL1(batch, features))
            {
                BackwardColumnWalk(px, py, pdy, pdx, pg, pm, ps, pdg, pdb, batch, features, activation, accumulate);
            }
            else if (level == SimdLevel.Vector512)
            {
                BackwardRowWalk(px, py, pdy, pdx, pg, pm, ps, pdg, pdb, batch, features, activation, accumulate);
            }
            else
            {
                float invB = 1f / batch;
                for (int j = 0; j < features; j++) { pdb[j] = 0; pdg[j] = 0; }
                for (int i = 0; i < batch; i++)
                    for (int j = 0; j < features; j++)
                    {
                        long at = (long)i * features + j;
                        float xhat = (px[at] - pm[j]) * ps[j], dz = Dz(activation, pdy[at], py, at);
                        pdb[j] += dz;
                        pdg[j] = MathF.FusedMultiplyAdd(dz, xhat, pdg[j]);
                    }
                for (int i = 0; i < batch; i++)
                    for (int j = 0; j < features; j++)
                    {
                        long at = (long)i * features + j;
                        float inv = ps[j];
                        float xhat = (px[at] - pm[j]) * inv, dz = Dz(activation, pdy[at], py, at);
                        float g = pg[j] * inv * (dz - pdb[j] * invB - xhat * (pdg[j] * invB));
                        pdx[at] = accumulate ? pdx[at] + g : g;
                    }
            }
        }
    }

    // The two Vector512 walks live in methods of their own: written inline in one method, the row walk measured
    // 1.5-1.8x slower (backward at [32, 1024]: 22 vs 12 us), presumably the JIT's inlining or register budget.
    private static void ForwardColumnWalk(float* px, float* py, float* pg, float* pb, float* pm, float* ps, float* prm, float* prv, int batch, int features, float momentum, float eps, float unbias, bool updateRunning, bool tanh)
    {
        // One column block at a time down the rows: the statistics never leave registers.
        var vb = Vector512.Create((float)batch);
        var keep = Vector512.Create(1 - momentum); var take = Vector512.Create(momentum);
        for (int j = 0; j < features; j += 16)
        {
            var m = Mask(features - j);
            var sum = Vector512<float>.Zero;
            for (int i = 0; i < batch; i++) sum += Load(px + (long)i * features + j, m);
            var mu = sum / vb;
            var sq = Vector512<float>.Zero;
            for (int i = 0; i < batch; i++)
            {
                var d = Load(px + (long)i * features + j, m) - mu;
                sq = Vector512.FusedMultiplyAdd(d, d, sq);
            }
            var variance = sq / vb;
            var inv = Vector512<float>.One / Vector512.Sqrt(variance + Vector512.Create(eps));
            var scale = Load(pg + j, m) * inv;
            var shift = Load(pb + j, m);
            for (int i = 0; i < batch; i++)
            {
                long at = (long)i * features + j;
                var v = Vector512.FusedMultiplyAdd(Load(px + at, m) - mu, scale, shift);
                Store(py + at, tanh ? Tanh.Compute(v) : v, m);
            }
            Store(pm + j, mu, m);
            Store(ps + j, inv, m);
            if (updateRunning)
            {
                Store(prm + j, keep * Load(prm + j, m) + take * mu, m);
                Store(prv + j, keep * Load(prv + j, m) + take * (variance * Vector512.Create(unbias)), m);
            }
        }
    }

    private static void ForwardRowWalk(float* px, float* py, float* pg, float* pb, float* pm, float* ps, float* prm, float* prv, int batch, int features, float momentum, float eps, float unbias, bool updateRunning, bool tanh)
    {
        // Pass 1: column sums, row by row (mean holds them).
        var vb = Vector512.Create((float)batch);
        for (int j = 0; j < features; j += 16) Store(pm + j, Vector512<float>.Zero, Mask(features - j));
        for (int i = 0; i < batch; i++)
        {
            float* row = px + (long)i * features;
            for (int j = 0; j < features; j += 16) { var m = Mask(features - j); Store(pm + j, Load(pm + j, m) + Load(row + j, m), m); }
        }
        for (int j = 0; j < features; j += 16)
        {
            var m = Mask(features - j);
            Store(pm + j, Load(pm + j, m) / vb, m);
            Store(ps + j, Vector512<float>.Zero, m);
        }
        // Pass 2: Σ(x − μ)², row by row (invStd holds it).
        for (int i = 0; i < batch; i++)
        {
            float* row = px + (long)i * features;
            for (int j = 0; j < features; j += 16)
            {
                var m = Mask(features - j);
                var d = Load(row + j, m) - Load(pm + j, m);
                Store(ps + j, Vector512.FusedMultiplyAdd(d, d, Load(ps + j, m)), m);
            }
        }
        for (int j = 0; j < features; j += 16)
        {
            var m = Mask(features - j);
            var variance = Load(ps + j, m) / vb;
            Store(ps + j, Vector512<float>.One / Vector512.Sqrt(variance + Vector512.Create(eps)), m);
            if (updateRunning)
            {
                var keep = Vector512.Create(1 - momentum); var take = Vector512.Create(momentum);
                Store(prm + j, keep * Load(prm + j, m) + take * Load(pm + j, m), m);
                Store(prv + j, keep * Load(prv + j, m) + take * (variance * Vector512.Create(unbias)), m);
            }
        }
        // Pass 3: normalize, scale, shift and (tanh) activate each row while it is in registers.
        for (int i = 0; i < batch; i++)
        {
            long at = (long)i * features;
            for (int j = 0; j < features; j += 16)
            {
                var m = Mask(features - j);
                var v = Vector512.FusedMultiplyAdd(Load(px + at + j, m) - Load(pm + j, m), Load(pg + j, m) * Load(ps + j, m), Load(pb + j, m));
                Store(py + at + j, tanh ? Tanh.Compute(v) : v, m);
            }
        }
    }

    private static void BackwardColumnWalk(float* px, float* py, float* pdy, float* pdx, float* pg, float* pm, float* ps, float* pdg, float* pdb, int batch, int features, FusedActivation activation, bool accumulate)
    {
        var invB = Vector512.Create(1f / batch);
        for (int j = 0; j < features; j += 16)
        {
            var m = Mask(features - j);
            var mu = Load(pm + j, m); var inv = Load(ps + j, m);
            Vector512<float> sumDz = Vector512<float>.Zero, sumDzXhat = Vector512<float>.Zero;
            for (int i = 0; i < batch; i++)
            {
                long at = (long)i * features + j;
                var xhat = (Load(px + at, m) - mu) * inv;
                var dz = Dz(activation, Load(pdy + at, m), py + at, m);
                sumDz += dz;
                sumDzXhat = Vector512.FusedMultiplyAdd(dz, xhat, sumDzXhat);
            }
            Store(pdb + j, sumDz, m);
            Store(pdg + j, sumDzXhat, m);
            var k1 = Load(pg + j, m) * inv; var k2 = sumDz * invB; var k3 = sumDzXhat * invB;
            for (int i = 0; i < batch; i++)
            {
                long at = (long)i * features + j;
                var xhat = (Load(px + at, m) - mu) * inv;
                var dz = Dz(activation, Load(pdy + at, m), py + at, m);
                var g = k1 * (dz - k2 - xhat * k3);
                if (accumulate) g += Load(pdx + at, m);
                Store(pdx + at, g, m);
            }
        }
    }

    private static void BackwardRowWalk(float* px, float* py, float* pdy, float* pdx, float* pg, float* pm, float* ps, float* pdg, float* pdb, int batch, int features, FusedActivation activation, bool accumulate)
    {
        var invB = Vector512.Create(1f / batch);   // a multiply per element instead of a division (exact for B = 2^k)
        for (int j = 0; j < features; j += 16) { var m = Mask(features - j); Store(pdb + j, Vector512<float>.Zero, m); Store(pdg + j, Vector512<float>.Zero, m); }
        // Pass 1: dBeta = Σ dz, dGamma = Σ dz·x̂, row by row.
        for (int i = 0; i < batch; i++)
        {
            long at = (long)i * features;
            for (int j = 0; j < features; j += 16)
            {
                var m = Mask(features - j);
                var xhat = (Load(px + at + j, m) - Load(pm + j, m)) * Load(ps + j, m);
                var dz = Dz(activation, Load(pdy + at + j, m), py + at + j, m);
                Store(pdb + j, Load(pdb + j, m) + dz, m);
                Store(pdg + j, Vector512.FusedMultiplyAdd(dz, xhat, Load(pdg + j, m)), m);
            }
        }
        // Pass 2: dx = γ/σ · (dz − mean(dz) − x̂·mean(dz·x̂))
        for (int i = 0; i < batch; i++)
        {
            long at = (long)i * features;
            for (int j = 0; j < features; j += 16)
            {
                var m = Mask(features - j);
                var inv = Load(ps + j, m);
                var xhat = (Load(px + at + j, m) - Load(pm + j, m)) * inv;
                var dz = Dz(activation, Load(pdy + at + j, m), py + at + j, m);
                var g = Load(pg + j, m) * inv * (dz - Load(pdb + j, m) * invB - xhat * (Load(pdg + j, m) * invB));
                if (accumulate) g += Load(pdx + at + j, m);
                Store(pdx + at + j, g, m);
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

    // Whether walking one column block down all rows keeps those rows' cache lines in L1 (48 KiB, 12-way, 64 sets
    // of 64-byte lines on Zen 4/5): rows `stride` bytes apart fall into 64 / gcd(stride / 64, 64) distinct sets
    // when the stride is a multiple of 64, else they spread over all of them. Up to 8 lines per set leaves room for
    // the other operands; beyond that (width 512 or 1024 at batch 32) the lines evict each other on every pass and
    // the row-by-row walk is faster (measured at [32, 1024]: forward 7.3 vs 18.9 us, backward+tanh 12 vs 19 us),
    // while at width 256 or 200 the column walk is (at [32, 256]: forward+tanh 3.1 vs 3.8 us, backward 2.3 vs 3.3 us).
    private static bool ColumnWalkFitsL1(int batch, int features)
    {
        long stride = features * 4L;
        if (stride % 64 != 0) return true;
        long a = stride / 64 % 64, b = 64;   // gcd(stride / 64 mod 64, 64); 64 when the stride is a multiple of 4 KiB
        while (a != 0) (a, b) = (b % a, a);
        return batch <= 8 * (64 / b);
    }

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
