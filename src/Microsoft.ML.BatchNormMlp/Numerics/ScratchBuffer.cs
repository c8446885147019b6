using System.Runtime.CompilerServices;

namespace Microsoft.ML.BatchNormMlp.Numerics;

/// <summary>
/// A growable, pinned, 64-byte-aligned float buffer. Kernels keep one per thread ([ThreadStatic]) so that packing
/// allocates only while shapes grow, never in steady state.
/// </summary>
internal sealed unsafe class ScratchBuffer
{
    // The first allocation is at least this big (256 KiB): enough for every panel the presets' shapes need, so that
    // a thread that first meets a larger unit late (units are claimed dynamically) does not allocate mid-training.
    private const int MinimumCapacity = 64 * 1024;

    private float[] _array = [];
    private float* _aligned;
    private int _capacity;

    /// <summary>A pointer to at least <paramref name="count"/> floats, valid until the next call on this buffer.</summary>
    public float* Get(long count)
    {
        if (count > _capacity)
        {
            if (count > int.MaxValue - 64) throw new InvalidOperationException($"A GEMM scratch buffer of {count} floats is too large.");
            int capacity = (int)Math.Min(int.MaxValue - 64, Math.Max(Math.Max(count, 2L * _capacity), MinimumCapacity));
            // The pinned object heap never moves the array, so the aligned pointer stays valid for its lifetime.
            _array = GC.AllocateUninitializedArray<float>(capacity + 16, pinned: true);
            float* p = (float*)Unsafe.AsPointer(ref _array[0]);
            _aligned = (float*)(((nuint)p + 63) & ~(nuint)63);
            _capacity = capacity;
        }
        return _aligned;
    }
}
