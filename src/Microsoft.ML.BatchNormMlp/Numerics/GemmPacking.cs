using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Microsoft.ML.BatchNormMlp.Numerics;

/// <summary>
/// Copies operands into the layout the microkernels stream: <c>dst[p·width + r]</c> for p = 0..k-1, with the
/// rows r = rows..width-1 zero-filled so that kernels never need masked tails. Packed A is the same layout with
/// width <see cref="GemmKernels.Mr"/>; a packed B panel has the panel's padded width.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>dst[p·width + r] = src[r·ld + p]: <paramref name="rows"/> rows of length k, transposed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransposeRows(float* src, nint ld, int rows, int width, int k, float* dst, SimdLevel level)
    {
        int r0 = 0;
        if (level != SimdLevel.Scalar && Avx.IsSupported)
        {
            // 8 x 8 blocks in registers. K advances outermost, 16 at a time, so each source cache line (16 floats) is
            // used whole while it is in L1 (the rows of a weight matrix are often 4 KiB apart and share a cache set),
            // and the destination rows p..p+15 are finished before moving on. The K tail and the last partial group
            // of rows go through the scalar loops.
            int groups = rows / 8, k16 = k & ~15, k8 = k & ~7;
            r0 = groups * 8;
            for (int p = 0; p < k16; p += 16)
                for (int g = 0; g < groups; g++)
                {
                    float* s = src + g * 8 * ld + p;
                    float* d = dst + p * width + g * 8;
                    Transpose8x8(s, ld, d, width);
                    Transpose8x8(s + 8, ld, d + 8 * width, width);
                }
            for (int p = k16; p < k8; p += 8)
                for (int g = 0; g < groups; g++) Transpose8x8(src + g * 8 * ld + p, ld, dst + p * width + g * 8, width);
            for (int p = k8; p < k; p++)
                for (int r = 0; r < r0; r++) dst[p * width + r] = src[r * ld + p];
        }
        for (int p = 0; p < k; p++)
        {
            float* d = dst + p * width;
            for (int r = r0; r < rows; r++) d[r] = src[r * ld + p];
            for (int r = rows; r < width; r++) d[r] = 0;
        }
    }

    /// <summary>dst[p·width + c] = src[p·ld + c] for c below <paramref name="cols"/>, zero up to width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyRows(float* src, nint ld, int cols, int width, int k, float* dst, SimdLevel level)
    {
        if (level != SimdLevel.Scalar && cols == 8 && width == 8)
        {
            for (int p = 0; p < k; p++) Vector256.Store(Vector256.Load(src + p * ld), dst + p * 8);
            return;
        }
        for (int p = 0; p < k; p++)
        {
            float* s = src + p * ld, d = dst + p * width;
            int c = 0;
            for (; c < cols; c++) d[c] = s[c];
            for (; c < width; c++) d[c] = 0;
        }
    }

    // out row q = column q of the 8 x 8 block at src (row stride ld), stored at dst + q·ldd.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint ld, float* dst, nint ldd)
    {
        var r0 = Avx.LoadVector256(src); var r1 = Avx.LoadVector256(src + ld);
        var r2 = Avx.LoadVector256(src + 2 * ld); var r3 = Avx.LoadVector256(src + 3 * ld);
        var r4 = Avx.LoadVector256(src + 4 * ld); var r5 = Avx.LoadVector256(src + 5 * ld);
        var r6 = Avx.LoadVector256(src + 6 * ld); var r7 = Avx.LoadVector256(src + 7 * ld);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(s3, s7, 0x31));
    }
}
