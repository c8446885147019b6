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
        int p0 = 0;
        if (level != SimdLevel.Scalar && Avx.IsSupported && width % 8 == 0)
        {
            // 8 x 8 blocks in registers (a partial group reads only its valid rows, the rest are zero). K advances
            // outermost, 16 at a time, so each source cache line (16 floats) is used whole while it is in L1 (rows
            // of a weight matrix are often 4 KiB apart and share a cache set), and destination rows p..p+15 are
            // finished before moving on.
            int groups = width / 8, k16 = k & ~15;
            for (; p0 < k16; p0 += 16)
                for (int g = 0; g < groups; g++)
                {
                    int valid = Math.Clamp(rows - g * 8, 0, 8);
                    float* s = src + g * 8 * ld + p0;
                    float* d = dst + p0 * width + g * 8;
                    Transpose8x8(s, ld, valid, d, width);
                    Transpose8x8(s + 8, ld, valid, d + 8 * width, width);
                }
            if (p0 + 8 <= k)
            {
                for (int g = 0; g < groups; g++)
                    Transpose8x8(src + g * 8 * ld + p0, ld, Math.Clamp(rows - g * 8, 0, 8), dst + p0 * width + g * 8, width);
                p0 += 8;
            }
        }
        for (int p = p0; p < k; p++)
        {
            float* d = dst + p * width;
            for (int r = 0; r < rows; r++) d[r] = src[r * ld + p];
            for (int r = rows; r < width; r++) d[r] = 0;
        }
    }

    /// <summary>dst[p·width + c] = src[p·ld + c] for c below <paramref name="cols"/>, zero up to width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyRows(float* src, nint ld, int cols, int width, int k, float* dst, SimdLevel level)
    {
        if (level != SimdLevel.Scalar && Avx.IsSupported && width % 8 == 0)
        {
            int full = cols & ~7;
            var tailMask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(cols - full)).AsSingle();
            for (int p = 0; p < k; p++)
            {
                float* s = src + p * ld, d = dst + p * width;
                int c = 0;
                for (; c < full; c += 8) Vector256.Store(Vector256.Load(s + c), d + c);
                if (c < cols) { Vector256.Store(Avx.MaskLoad(s + c, tailMask), d + c); c += 8; }
                for (; c < width; c += 8) Vector256.Store(Vector256<float>.Zero, d + c);
            }
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

    // out row q = column q of the 8 x 8 block at src (row stride ld), stored at dst + q·ldd. Rows from `valid` on
    // are not read and count as zero.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint ld, int valid, float* dst, nint ldd)
    {
        Vector256<float> r0, r1, r2, r3, r4, r5, r6, r7;
        if (valid == 8)
        {
            r0 = Avx.LoadVector256(src); r1 = Avx.LoadVector256(src + ld);
            r2 = Avx.LoadVector256(src + 2 * ld); r3 = Avx.LoadVector256(src + 3 * ld);
            r4 = Avx.LoadVector256(src + 4 * ld); r5 = Avx.LoadVector256(src + 5 * ld);
            r6 = Avx.LoadVector256(src + 6 * ld); r7 = Avx.LoadVector256(src + 7 * ld);
        }
        else
        {
            var z = Vector256<float>.Zero;
            r0 = valid > 0 ? Avx.LoadVector256(src) : z; r1 = valid > 1 ? Avx.LoadVector256(src + ld) : z;
            r2 = valid > 2 ? Avx.LoadVector256(src + 2 * ld) : z; r3 = valid > 3 ? Avx.LoadVector256(src + 3 * ld) : z;
            r4 = valid > 4 ? Avx.LoadVector256(src + 4 * ld) : z; r5 = valid > 5 ? Avx.LoadVector256(src + 5 * ld) : z;
            r6 = valid > 6 ? Avx.LoadVector256(src + 6 * ld) : z; r7 = z;
        }
        Transpose8.InPlace(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        Avx.Store(dst, r0);
        Avx.Store(dst + ldd, r1);
        Avx.Store(dst + 2 * ldd, r2);
        Avx.Store(dst + 3 * ldd, r3);
        Avx.Store(dst + 4 * ldd, r4);
        Avx.Store(dst + 5 * ldd, r5);
        Avx.Store(dst + 6 * ldd, r6);
        Avx.Store(dst + 7 * ldd, r7);
    }
}
