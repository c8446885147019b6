using System.Numerics;

namespace Microsoft.ML.BatchNormMlp.Featurization;

/// <summary>
/// CPython's <c>random.Random</c>, only as far as the seeds use it: <c>random.seed(n)</c> for an integer n and
/// <c>random.shuffle(list)</c>, reproduced bit for bit.
/// </summary>
/// <remarks>
/// Why: the seeds and the PyTorch reference (torch_ref.py) split names.txt with <c>random.seed(42);
/// random.shuffle(words)</c>. Shuffling the same way gives the very same train/dev/test names (182625/22655/22866
/// rows with a context of 3), so our losses compare with PyTorch's number for number. It is used for nothing else:
/// all other randomness comes from <see cref="Numerics.Rng"/>.
/// <para>
/// How CPython does it (Modules/_randommodule.c, Lib/random.py, stable since Python 3.2): the generator is
/// MT19937; <c>seed(n)</c> calls <c>init_by_array</c> with the 32-bit chunks of |n|, least significant first
/// (at least one chunk, so 0 is <c>[0]</c>); <c>getrandbits(k)</c> for k &lt;= 32 is the top k bits of one 32-bit
/// output; <c>_randbelow(n)</c> draws <c>getrandbits(n.bit_length())</c> until the value is below n; and
/// <c>shuffle</c> swaps item i with item <c>_randbelow(i + 1)</c> for i from the last index down to 1.
/// </para>
/// </remarks>
internal sealed class PythonRandom
{
    private const int N = 624, M = 397;
    private const uint MatrixA = 0x9908B0DFu, UpperMask = 0x80000000u, LowerMask = 0x7FFFFFFFu;

    private readonly uint[] _mt = new uint[N];
    private int _index;

    /// <summary>The state after Python's <c>random.seed(seed)</c>; negative seeds use |seed|, as CPython does.</summary>
    public PythonRandom(long seed)
    {
        ulong magnitude = seed < 0 ? (ulong)(-(seed + 1)) + 1 : (ulong)seed;
        uint low = (uint)magnitude, high = (uint)(magnitude >> 32);
        InitByArray(high == 0 ? [low] : [low, high]);
    }

    private void InitGenRand(uint seed)
    {
        _mt[0] = seed;
        for (int i = 1; i < N; i++)
            _mt[i] = 1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + (uint)i;
        _index = N;
    }

    private void InitByArray(uint[] key)
    {
        InitGenRand(19650218u);
        int i = 1, j = 0;
        for (int k = Math.Max(N, key.Length); k > 0; k--)
        {
            _mt[i] = (_mt[i] ^ ((_mt[i - 1] ^ (_mt[i - 1] >> 30)) * 1664525u)) + key[j] + (uint)j;
            i++; j++;
            if (i >= N) { _mt[0] = _mt[N - 1]; i = 1; }
            if (j >= key.Length) j = 0;
        }
        for (int k = N - 1; k > 0; k--)
        {
            _mt[i] = (_mt[i] ^ ((_mt[i - 1] ^ (_mt[i - 1] >> 30)) * 1566083941u)) - (uint)i;
            i++;
            if (i >= N) { _mt[0] = _mt[N - 1]; i = 1; }
        }
        _mt[0] = 0x80000000u; // guarantees a non-zero state
    }

    /// <summary>The next 32-bit output of MT19937 (CPython's <c>genrand_uint32</c>).</summary>
    public uint NextUInt32()
    {
        if (_index >= N) Twist();
        uint y = _mt[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C5680u;
        y ^= (y << 15) & 0xEFC60000u;
        y ^= y >> 18;
        return y;
    }

    private void Twist()
    {
        for (int k = 0; k < N; k++)
        {
            uint y = (_mt[k] & UpperMask) | (_mt[(k + 1) % N] & LowerMask);
            _mt[k] = _mt[(k + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? MatrixA : 0);
        }
        _index = 0;
    }

    /// <summary>Python's <c>getrandbits(k)</c> for 0 &lt;= k &lt;= 32.</summary>
    public uint GetRandBits(int k)
    {
        if ((uint)k > 32) throw new ArgumentOutOfRangeException(nameof(k), k, "Only 0 to 32 bits are supported.");
        return k == 0 ? 0 : NextUInt32() >> (32 - k);
    }

    /// <summary>Python's <c>_randbelow(n)</c>: uniform in [0, n) by rejection, never by modulo.</summary>
    public int RandBelow(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "The range must hold at least one value.");
        int k = 32 - BitOperations.LeadingZeroCount((uint)n); // n.bit_length()
        uint r = GetRandBits(k);
        while (r >= (uint)n) r = GetRandBits(k);
        return (int)r;
    }

    /// <summary>Python's <c>random.shuffle(items)</c>, in place.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = RandBelow(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
