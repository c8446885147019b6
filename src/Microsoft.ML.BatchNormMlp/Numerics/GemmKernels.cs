using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Microsoft.ML.BatchNormMlp.Numerics;

/// <summary>
/// The register-blocked GEMM microkernels. A tile is <see cref="Mr"/> rows by 1..3 vectors of columns; its
/// accumulators stay in registers for the whole K loop (8 x 3 zmm = 24 of the 32 registers with AVX-512), each step
/// broadcasting one packed A value per row and multiplying it into the B row of the panel (FMA along K).
/// Every path computes each element as the same chain <c>s = fma(a[p], b[p], s)</c> for p = 0..kc-1, then
/// <c>(s + C) + bias</c>, so the scalar, Vector256 and Vector512 paths give bit-identical results.
/// </summary>
internal static unsafe class GemmKernels
{
    /// <summary>Rows per tile (and the interleave of packed A).</summary>
    public const int Mr = 8;

    /// <summary>Most vectors per tile row.</summary>
    public const int MaxVectors = 3;

    /// <summary>Columns per vector at a level (the scalar path mirrors the Vector256 geometry).</summary>
    public static int Lanes(SimdLevel level) => level == SimdLevel.Vector512 ? 16 : 8;

    /// <summary>
    /// C[rows, cols] = (add ? C : 0) + Σ_p A[p] ⊗ B[p] (+ bias), where <paramref name="ap"/> is packed A
    /// (<c>ap[p·Mr + r]</c>, all <see cref="Mr"/> rows present, zero-padded), <paramref name="bp"/> the B panel
    /// (<c>bp[p·ldb + col]</c> for col below vectors·Lanes), and bias, when not null, holds one value per column.
    /// The kernel computes the whole Mr x vectors·Lanes block in registers and stores only rows below
    /// <paramref name="rows"/> and columns below <paramref name="cols"/> (masked), so ragged tiles need no copies.
    /// </summary>
    public static void Tile(SimdLevel level, int vectors, float* ap, float* bp, nint ldb, int kc, float* c, nint ldc, float* bias, bool add, int rows, int cols)
    {
        switch (level, vectors)
        {
            case (SimdLevel.Vector512, 1): Tile512<One>(ap, bp, ldb, kc, c, ldc, bias, add, rows, cols); break;
            case (SimdLevel.Vector512, 2): Tile512<Two>(ap, bp, ldb, kc, c, ldc, bias, add, rows, cols); break;
            case (SimdLevel.Vector512, 3): Tile512<Three>(ap, bp, ldb, kc, c, ldc, bias, add, rows, cols); break;
            case (SimdLevel.Vector256, 1): Tile256<One>(ap, bp, ldb, kc, c, ldc, bias, add, rows, cols); break;
            case (SimdLevel.Vector256, 2): Tile256<Two>(ap, bp, ldb, kc, c, ldc, bias, add, rows, cols); break;
            case (SimdLevel.Vector256, 3): Tile256<Three>(ap, bp, ldb, kc, c, ldc, bias, add, rows, cols); break;
            default: TileScalar(ap, bp, ldb, kc, c, ldc, bias, add, rows, cols); break;
        }
    }

    private static void TileScalar(float* ap, float* bp, nint ldb, int kc, float* c, nint ldc, float* bias, bool add, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < cols; col++)
            {
                float s = 0;
                for (int p = 0; p < kc; p++) s = MathF.FusedMultiplyAdd(ap[p * Mr + r], bp[p * ldb + col], s);
                if (add) s += c[r * ldc + col];
                if (bias != null) s += bias[col];
                c[r * ldc + col] = s;
            }
    }

    // Generic over a struct so that the JIT compiles one specialised body per vector count and drops the unused
    // accumulators: one source for the 1-, 2- and 3-vector tiles.
    internal interface IVectorCount { static abstract int Count { get; } }
    private struct One : IVectorCount { public static int Count => 1; }
    private struct Two : IVectorCount { public static int Count => 2; }
    private struct Three : IVectorCount { public static int Count => 3; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile512<TW>(float* ap, float* bp, nint ldb, int kc, float* c, nint ldc, float* bias, bool add, int rows, int cols)
        where TW : struct, IVectorCount
    {
        var z = Vector512<float>.Zero;
        Vector512<float> c00 = z, c01 = z, c02 = z, c03 = z, c04 = z, c05 = z, c06 = z, c07 = z;
        Vector512<float> c10 = z, c11 = z, c12 = z, c13 = z, c14 = z, c15 = z, c16 = z, c17 = z;
        Vector512<float> c20 = z, c21 = z, c22 = z, c23 = z, c24 = z, c25 = z, c26 = z, c27 = z;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(bp);
            var b1 = TW.Count >= 2 ? Vector512.Load(bp + 16) : z;
            var b2 = TW.Count >= 3 ? Vector512.Load(bp + 32) : z;
            var a0 = Vector512.Create(ap[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            if (TW.Count >= 2) c10 = Vector512.FusedMultiplyAdd(a0, b1, c10);
            if (TW.Count >= 3) c20 = Vector512.FusedMultiplyAdd(a0, b2, c20);
            var a1 = Vector512.Create(ap[1]);
            c01 = Vector512.FusedMultiplyAdd(a1, b0, c01);
            if (TW.Count >= 2) c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            if (TW.Count >= 3) c21 = Vector512.FusedMultiplyAdd(a1, b2, c21);
            var a2 = Vector512.Create(ap[2]);
            c02 = Vector512.FusedMultiplyAdd(a2, b0, c02);
            if (TW.Count >= 2) c12 = Vector512.FusedMultiplyAdd(a2, b1, c12);
            if (TW.Count >= 3) c22 = Vector512.FusedMultiplyAdd(a2, b2, c22);
            var a3 = Vector512.Create(ap[3]);
            c03 = Vector512.FusedMultiplyAdd(a3, b0, c03);
            if (TW.Count >= 2) c13 = Vector512.FusedMultiplyAdd(a3, b1, c13);
            if (TW.Count >= 3) c23 = Vector512.FusedMultiplyAdd(a3, b2, c23);
            var a4 = Vector512.Create(ap[4]);
            c04 = Vector512.FusedMultiplyAdd(a4, b0, c04);
            if (TW.Count >= 2) c14 = Vector512.FusedMultiplyAdd(a4, b1, c14);
            if (TW.Count >= 3) c24 = Vector512.FusedMultiplyAdd(a4, b2, c24);
            var a5 = Vector512.Create(ap[5]);
            c05 = Vector512.FusedMultiplyAdd(a5, b0, c05);
            if (TW.Count >= 2) c15 = Vector512.FusedMultiplyAdd(a5, b1, c15);
            if (TW.Count >= 3) c25 = Vector512.FusedMultiplyAdd(a5, b2, c25);
            var a6 = Vector512.Create(ap[6]);
            c06 = Vector512.FusedMultiplyAdd(a6, b0, c06);
            if (TW.Count >= 2) c16 = Vector512.FusedMultiplyAdd(a6, b1, c16);
            if (TW.Count >= 3) c26 = Vector512.FusedMultiplyAdd(a6, b2, c26);
            var a7 = Vector512.Create(ap[7]);
            c07 = Vector512.FusedMultiplyAdd(a7, b0, c07);
            if (TW.Count >= 2) c17 = Vector512.FusedMultiplyAdd(a7, b1, c17);
            if (TW.Count >= 3) c27 = Vector512.FusedMultiplyAdd(a7, b2, c27);
            ap += Mr;
            bp += ldb;
        }
        if (rows == Mr && cols == TW.Count * 16)
        {
            StoreRow512<TW>(c + 0 * ldc, c00, c10, c20, bias, add);
            StoreRow512<TW>(c + 1 * ldc, c01, c11, c21, bias, add);
            StoreRow512<TW>(c + 2 * ldc, c02, c12, c22, bias, add);
            StoreRow512<TW>(c + 3 * ldc, c03, c13, c23, bias, add);
            StoreRow512<TW>(c + 4 * ldc, c04, c14, c24, bias, add);
            StoreRow512<TW>(c + 5 * ldc, c05, c15, c25, bias, add);
            StoreRow512<TW>(c + 6 * ldc, c06, c16, c26, bias, add);
            StoreRow512<TW>(c + 7 * ldc, c07, c17, c27, bias, add);
            return;
        }
        // A ragged tile: rows past the matrix are dropped, and the last vector of each row is masked.
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols - (TW.Count - 1) * 16)).AsSingle();
        if (rows > 0) StoreRowMasked512<TW>(c + 0 * ldc, c00, c10, c20, bias, add, mask);
        if (rows > 1) StoreRowMasked512<TW>(c + 1 * ldc, c01, c11, c21, bias, add, mask);
        if (rows > 2) StoreRowMasked512<TW>(c + 2 * ldc, c02, c12, c22, bias, add, mask);
        if (rows > 3) StoreRowMasked512<TW>(c + 3 * ldc, c03, c13, c23, bias, add, mask);
        if (rows > 4) StoreRowMasked512<TW>(c + 4 * ldc, c04, c14, c24, bias, add, mask);
        if (rows > 5) StoreRowMasked512<TW>(c + 5 * ldc, c05, c15, c25, bias, add, mask);
        if (rows > 6) StoreRowMasked512<TW>(c + 6 * ldc, c06, c16, c26, bias, add, mask);
        if (rows > 7) StoreRowMasked512<TW>(c + 7 * ldc, c07, c17, c27, bias, add, mask);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow512<TW>(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, float* bias, bool add)
        where TW : struct, IVectorCount
    {
        Store512(c, v0, bias, add);
        if (TW.Count >= 2) Store512(c + 16, v1, bias == null ? null : bias + 16, add);
        if (TW.Count >= 3) Store512(c + 32, v2, bias == null ? null : bias + 32, add);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRowMasked512<TW>(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, float* bias, bool add, Vector512<float> mask)
        where TW : struct, IVectorCount
    {
        if (TW.Count == 1) { StoreMasked512(c, v0, bias, add, mask); return; }
        Store512(c, v0, bias, add);
        if (TW.Count == 2) { StoreMasked512(c + 16, v1, bias == null ? null : bias + 16, add, mask); return; }
        Store512(c + 16, v1, bias == null ? null : bias + 16, add);
        StoreMasked512(c + 32, v2, bias == null ? null : bias + 32, add, mask);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> v, float* bias, bool add)
    {
        if (add) v += Vector512.Load(c);
        if (bias != null) v += Vector512.Load(bias);
        Vector512.Store(v, c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreMasked512(float* c, Vector512<float> v, float* bias, bool add, Vector512<float> mask)
    {
        if (add) v += Avx512F.MaskLoad(c, mask, Vector512<float>.Zero);
        if (bias != null) v += Avx512F.MaskLoad(bias, mask, Vector512<float>.Zero);
        Avx512F.MaskStore(c, mask, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile256<TW>(float* ap, float* bp, nint ldb, int kc, float* c, nint ldc, float* bias, bool add, int rows, int cols)
        where TW : struct, IVectorCount
    {
        var z = Vector256<float>.Zero;
        Vector256<float> c00 = z, c01 = z, c02 = z, c03 = z, c04 = z, c05 = z, c06 = z, c07 = z;
        Vector256<float> c10 = z, c11 = z, c12 = z, c13 = z, c14 = z, c15 = z, c16 = z, c17 = z;
        Vector256<float> c20 = z, c21 = z, c22 = z, c23 = z, c24 = z, c25 = z, c26 = z, c27 = z;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(bp);
            var b1 = TW.Count >= 2 ? Vector256.Load(bp + 8) : z;
            var b2 = TW.Count >= 3 ? Vector256.Load(bp + 16) : z;
            var a0 = Vector256.Create(ap[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            if (TW.Count >= 2) c10 = Vector256.FusedMultiplyAdd(a0, b1, c10);
            if (TW.Count >= 3) c20 = Vector256.FusedMultiplyAdd(a0, b2, c20);
            var a1 = Vector256.Create(ap[1]);
            c01 = Vector256.FusedMultiplyAdd(a1, b0, c01);
            if (TW.Count >= 2) c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            if (TW.Count >= 3) c21 = Vector256.FusedMultiplyAdd(a1, b2, c21);
            var a2 = Vector256.Create(ap[2]);
            c02 = Vector256.FusedMultiplyAdd(a2, b0, c02);
            if (TW.Count >= 2) c12 = Vector256.FusedMultiplyAdd(a2, b1, c12);
            if (TW.Count >= 3) c22 = Vector256.FusedMultiplyAdd(a2, b2, c22);
            var a3 = Vector256.Create(ap[3]);
            c03 = Vector256.FusedMultiplyAdd(a3, b0, c03);
            if (TW.Count >= 2) c13 = Vector256.FusedMultiplyAdd(a3, b1, c13);
            if (TW.Count >= 3) c23 = Vector256.FusedMultiplyAdd(a3, b2, c23);
            var a4 = Vector256.Create(ap[4]);
            c04 = Vector256.FusedMultiplyAdd(a4, b0, c04);
            if (TW.Count >= 2) c14 = Vector256.FusedMultiplyAdd(a4, b1, c14);
            if (TW.Count >= 3) c24 = Vector256.FusedMultiplyAdd(a4, b2, c24);
            var a5 = Vector256.Create(ap[5]);
            c05 = Vector256.FusedMultiplyAdd(a5, b0, c05);
            if (TW.Count >= 2) c15 = Vector256.FusedMultiplyAdd(a5, b1, c15);
            if (TW.Count >= 3) c25 = Vector256.FusedMultiplyAdd(a5, b2, c25);
            var a6 = Vector256.Create(ap[6]);
            c06 = Vector256.FusedMultiplyAdd(a6, b0, c06);
            if (TW.Count >= 2) c16 = Vector256.FusedMultiplyAdd(a6, b1, c16);
            if (TW.Count >= 3) c26 = Vector256.FusedMultiplyAdd(a6, b2, c26);
            var a7 = Vector256.Create(ap[7]);
            c07 = Vector256.FusedMultiplyAdd(a7, b0, c07);
            if (TW.Count >= 2) c17 = Vector256.FusedMultiplyAdd(a7, b1, c17);
            if (TW.Count >= 3) c27 = Vector256.FusedMultiplyAdd(a7, b2, c27);
            ap += Mr;
            bp += ldb;
        }
        if (rows == Mr && cols == TW.Count * 8)
        {
            StoreRow256<TW>(c + 0 * ldc, c00, c10, c20, bias, add);
            StoreRow256<TW>(c + 1 * ldc, c01, c11, c21, bias, add);
            StoreRow256<TW>(c + 2 * ldc, c02, c12, c22, bias, add);
            StoreRow256<TW>(c + 3 * ldc, c03, c13, c23, bias, add);
            StoreRow256<TW>(c + 4 * ldc, c04, c14, c24, bias, add);
            StoreRow256<TW>(c + 5 * ldc, c05, c15, c25, bias, add);
            StoreRow256<TW>(c + 6 * ldc, c06, c16, c26, bias, add);
            StoreRow256<TW>(c + 7 * ldc, c07, c17, c27, bias, add);
            return;
        }
        // A ragged tile: rows past the matrix are dropped, and the last vector of each row is masked.
        var mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(cols - (TW.Count - 1) * 8)).AsSingle();
        if (rows > 0) StoreRowMasked256<TW>(c + 0 * ldc, c00, c10, c20, bias, add, mask);
        if (rows > 1) StoreRowMasked256<TW>(c + 1 * ldc, c01, c11, c21, bias, add, mask);
        if (rows > 2) StoreRowMasked256<TW>(c + 2 * ldc, c02, c12, c22, bias, add, mask);
        if (rows > 3) StoreRowMasked256<TW>(c + 3 * ldc, c03, c13, c23, bias, add, mask);
        if (rows > 4) StoreRowMasked256<TW>(c + 4 * ldc, c04, c14, c24, bias, add, mask);
        if (rows > 5) StoreRowMasked256<TW>(c + 5 * ldc, c05, c15, c25, bias, add, mask);
        if (rows > 6) StoreRowMasked256<TW>(c + 6 * ldc, c06, c16, c26, bias, add, mask);
        if (rows > 7) StoreRowMasked256<TW>(c + 7 * ldc, c07, c17, c27, bias, add, mask);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow256<TW>(float* c, Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, float* bias, bool add)
        where TW : struct, IVectorCount
    {
        Store256(c, v0, bias, add);
        if (TW.Count >= 2) Store256(c + 8, v1, bias == null ? null : bias + 8, add);
        if (TW.Count >= 3) Store256(c + 16, v2, bias == null ? null : bias + 16, add);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRowMasked256<TW>(float* c, Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, float* bias, bool add, Vector256<float> mask)
        where TW : struct, IVectorCount
    {
        if (TW.Count == 1) { StoreMasked256(c, v0, bias, add, mask); return; }
        Store256(c, v0, bias, add);
        if (TW.Count == 2) { StoreMasked256(c + 8, v1, bias == null ? null : bias + 8, add, mask); return; }
        Store256(c + 8, v1, bias == null ? null : bias + 8, add);
        StoreMasked256(c + 16, v2, bias == null ? null : bias + 16, add, mask);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> v, float* bias, bool add)
    {
        if (add) v += Vector256.Load(c);
        if (bias != null) v += Vector256.Load(bias);
        Vector256.Store(v, c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreMasked256(float* c, Vector256<float> v, float* bias, bool add, Vector256<float> mask)
    {
        if (add) v += Avx.MaskLoad(c, mask);
        if (bias != null) v += Avx.MaskLoad(bias, mask);
        Avx.MaskStore(c, mask, v);
    }


    /// <summary>
    /// The NT kernel for few rows of A: C[i, j] for 8 columns j (rows of B = W read in place, stride
    /// <paramref name="ldw"/>) and TW.Count·16 rows i (a packed Aᵀ panel, <c>bp[p·ldb + i]</c>). Each element is the
    /// same FMA chain as in <see cref="Tile"/>; the accumulators hold Cᵀ and are transposed 8 x 8 on the way out.
    /// Only rows i below <paramref name="rows"/> and columns below <paramref name="cols"/> are stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TileTransposed512(int vectors, float* w, nint ldw, float* bp, nint ldb, int kc, float* c, nint ldc, float* bias, bool add, int rows, int cols, float* scratch)
    {
        switch (vectors)
        {
            case 1: TileT512<One>(w, ldw, bp, ldb, kc, scratch); break;
            case 2: TileT512<Two>(w, ldw, bp, ldb, kc, scratch); break;
            default: TileT512<Three>(w, ldw, bp, ldb, kc, scratch); break;
        }
        StoreTransposed(scratch, vectors, c, ldc, bias, add, rows, cols);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileT512<TW>(float* w, nint ldw, float* bp, nint ldb, int kc, float* acc)
        where TW : struct, IVectorCount
    {
        var z = Vector512<float>.Zero;
        Vector512<float> c00 = z, c01 = z, c02 = z, c03 = z, c04 = z, c05 = z, c06 = z, c07 = z;
        Vector512<float> c10 = z, c11 = z, c12 = z, c13 = z, c14 = z, c15 = z, c16 = z, c17 = z;
        Vector512<float> c20 = z, c21 = z, c22 = z, c23 = z, c24 = z, c25 = z, c26 = z, c27 = z;
        // Two base pointers and three offsets address the 8 rows of W: few registers, simple addressing modes.
        float* w4 = w + 4 * ldw;
        nint l1 = ldw, l2 = 2 * ldw, l3 = 3 * ldw;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(bp);
            var b1 = TW.Count >= 2 ? Vector512.Load(bp + 16) : z;
            var b2 = TW.Count >= 3 ? Vector512.Load(bp + 32) : z;
            var a0 = Vector512.Create(w[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            if (TW.Count >= 2) c10 = Vector512.FusedMultiplyAdd(a0, b1, c10);
            if (TW.Count >= 3) c20 = Vector512.FusedMultiplyAdd(a0, b2, c20);
            var a1 = Vector512.Create(w[l1]);
            c01 = Vector512.FusedMultiplyAdd(a1, b0, c01);
            if (TW.Count >= 2) c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            if (TW.Count >= 3) c21 = Vector512.FusedMultiplyAdd(a1, b2, c21);
            var a2 = Vector512.Create(w[l2]);
            c02 = Vector512.FusedMultiplyAdd(a2, b0, c02);
            if (TW.Count >= 2) c12 = Vector512.FusedMultiplyAdd(a2, b1, c12);
            if (TW.Count >= 3) c22 = Vector512.FusedMultiplyAdd(a2, b2, c22);
            var a3 = Vector512.Create(w[l3]);
            c03 = Vector512.FusedMultiplyAdd(a3, b0, c03);
            if (TW.Count >= 2) c13 = Vector512.FusedMultiplyAdd(a3, b1, c13);
            if (TW.Count >= 3) c23 = Vector512.FusedMultiplyAdd(a3, b2, c23);
            var a4 = Vector512.Create(w4[0]);
            c04 = Vector512.FusedMultiplyAdd(a4, b0, c04);
            if (TW.Count >= 2) c14 = Vector512.FusedMultiplyAdd(a4, b1, c14);
            if (TW.Count >= 3) c24 = Vector512.FusedMultiplyAdd(a4, b2, c24);
            var a5 = Vector512.Create(w4[l1]);
            c05 = Vector512.FusedMultiplyAdd(a5, b0, c05);
            if (TW.Count >= 2) c15 = Vector512.FusedMultiplyAdd(a5, b1, c15);
            if (TW.Count >= 3) c25 = Vector512.FusedMultiplyAdd(a5, b2, c25);
            var a6 = Vector512.Create(w4[l2]);
            c06 = Vector512.FusedMultiplyAdd(a6, b0, c06);
            if (TW.Count >= 2) c16 = Vector512.FusedMultiplyAdd(a6, b1, c16);
            if (TW.Count >= 3) c26 = Vector512.FusedMultiplyAdd(a6, b2, c26);
            var a7 = Vector512.Create(w4[l3]);
            c07 = Vector512.FusedMultiplyAdd(a7, b0, c07);
            if (TW.Count >= 2) c17 = Vector512.FusedMultiplyAdd(a7, b1, c17);
            if (TW.Count >= 3) c27 = Vector512.FusedMultiplyAdd(a7, b2, c27);
            w++; w4++;
            bp += ldb;
        }
        // The accumulators go to memory and a separate method transposes them: with the epilogue inlined here the
        // register allocator spilled accumulators inside the K loop.
        Vector512.Store(c00, acc + 0);
        Vector512.Store(c01, acc + 48);
        Vector512.Store(c02, acc + 96);
        Vector512.Store(c03, acc + 144);
        Vector512.Store(c04, acc + 192);
        Vector512.Store(c05, acc + 240);
        Vector512.Store(c06, acc + 288);
        Vector512.Store(c07, acc + 336);
        if (TW.Count >= 2) Vector512.Store(c10, acc + 16);
        if (TW.Count >= 2) Vector512.Store(c11, acc + 64);
        if (TW.Count >= 2) Vector512.Store(c12, acc + 112);
        if (TW.Count >= 2) Vector512.Store(c13, acc + 160);
        if (TW.Count >= 2) Vector512.Store(c14, acc + 208);
        if (TW.Count >= 2) Vector512.Store(c15, acc + 256);
        if (TW.Count >= 2) Vector512.Store(c16, acc + 304);
        if (TW.Count >= 2) Vector512.Store(c17, acc + 352);
        if (TW.Count >= 3) Vector512.Store(c20, acc + 32);
        if (TW.Count >= 3) Vector512.Store(c21, acc + 80);
        if (TW.Count >= 3) Vector512.Store(c22, acc + 128);
        if (TW.Count >= 3) Vector512.Store(c23, acc + 176);
        if (TW.Count >= 3) Vector512.Store(c24, acc + 224);
        if (TW.Count >= 3) Vector512.Store(c25, acc + 272);
        if (TW.Count >= 3) Vector512.Store(c26, acc + 320);
        if (TW.Count >= 3) Vector512.Store(c27, acc + 368);
    }

    // acc[r·48 + i] holds C[i, j0 + r]: transpose 8 x 8 blocks of it into rows of C.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void StoreTransposed(float* acc, int vectors, float* c, nint ldc, float* bias, bool add, int rows, int cols)
    {
        var colMask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(cols)).AsSingle();
        int blocks = Math.Min(vectors * 2, (rows + 7) / 8);
        for (int blk = 0; blk < blocks; blk++)
        {
            float* a = acc + blk * 8;
            StoreTransposed8(c + blk * 8 * ldc, ldc, Vector256.Load(a), Vector256.Load(a + 48), Vector256.Load(a + 96),
                Vector256.Load(a + 144), Vector256.Load(a + 192), Vector256.Load(a + 240), Vector256.Load(a + 288),
                Vector256.Load(a + 336), bias, add, rows - blk * 8, cols, colMask);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTransposed8(float* c, nint ldc, Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3, Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* bias, bool add, int rows, int cols, Vector256<float> colMask)
    {
        Transpose8.InPlace(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        var b = bias == null ? Vector256<float>.Zero : Avx.MaskLoad(bias, colMask);
        bool full = cols == 8;
        StoreRow8(c + 0 * ldc, r0, b, bias != null, add, full, colMask);
        if (rows > 1) StoreRow8(c + 1 * ldc, r1, b, bias != null, add, full, colMask);
        if (rows > 2) StoreRow8(c + 2 * ldc, r2, b, bias != null, add, full, colMask);
        if (rows > 3) StoreRow8(c + 3 * ldc, r3, b, bias != null, add, full, colMask);
        if (rows > 4) StoreRow8(c + 4 * ldc, r4, b, bias != null, add, full, colMask);
        if (rows > 5) StoreRow8(c + 5 * ldc, r5, b, bias != null, add, full, colMask);
        if (rows > 6) StoreRow8(c + 6 * ldc, r6, b, bias != null, add, full, colMask);
        if (rows > 7) StoreRow8(c + 7 * ldc, r7, b, bias != null, add, full, colMask);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow8(float* c, Vector256<float> v, Vector256<float> bias, bool hasBias, bool add, bool full, Vector256<float> colMask)
    {
        if (full)
        {
            if (add) v += Vector256.Load(c);
            if (hasBias) v += bias;
            Vector256.Store(v, c);
        }
        else
        {
            if (add) v += Avx.MaskLoad(c, colMask);
            if (hasBias) v += bias;
            Avx.MaskStore(c, colMask, v);
        }
    }
}
