namespace Microsoft.ML.BatchNormMlp.Numerics;

/// <summary>
/// The library's one source of randomness: xoshiro256** seeded through SplitMix64. Same seed, same stream on
/// every machine and runtime (no System.Random, whose algorithm is not a contract). Its whole state is four
/// words so that a checkpoint can save and restore it exactly.
/// </summary>
internal sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private float _spareGaussian;
    private bool _hasSpare;

    public Rng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform integer in [0, n) without modulo bias (Lemire's multiply-shift with rejection).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "The range must hold at least one value.");
        ulong range = (ulong)n;
        ulong product = Math.BigMul(NextUInt64(), range, out ulong low);
        if (low < range)
        {
            ulong threshold = (0 - range) % range;
            while (low < threshold) product = Math.BigMul(NextUInt64(), range, out low);
        }
        return (int)product;
    }

    /// <summary>Uniform float in [0, 1) with 24 random bits.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Standard normal sample (Marsaglia's polar method, computed in double).</summary>
    public float NextGaussian()
    {
        if (_hasSpare) { _hasSpare = false; return _spareGaussian; }
        double u, v, s;
        do
        {
            u = 2 * NextDouble() - 1;
            v = 2 * NextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        double m = Math.Sqrt(-2 * Math.Log(s) / s);
        _spareGaussian = (float)(v * m);
        _hasSpare = true;
        return (float)(u * m);
    }

    /// <summary>The full generator state, for checkpoints: four state words, the spare Gaussian and its flag.</summary>
    public RngState State
    {
        get => new(_s0, _s1, _s2, _s3, _spareGaussian, _hasSpare);
        set { (_s0, _s1, _s2, _s3, _spareGaussian, _hasSpare) = (value.S0, value.S1, value.S2, value.S3, value.SpareGaussian, value.HasSpare); }
    }
}

/// <summary>A snapshot of <see cref="Rng"/>'s state.</summary>
internal readonly record struct RngState(ulong S0, ulong S1, ulong S2, ulong S3, float SpareGaussian, bool HasSpare);
