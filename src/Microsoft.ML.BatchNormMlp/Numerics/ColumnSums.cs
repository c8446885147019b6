using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Microsoft.ML.BatchNormMlp.Numerics;

/// <summary>
/// sums[j] (+)= Σ_i x[i, j] over a row-major [rows, cols] batch: a Linear layer's bias gradient from dY. Each column
/// is summed in row order, 16 columns per zmm register (last block masked), so results are deterministic and the
/// scalar path agrees bit for bit. Allocates nothing.
/// </summary>
internal static unsafe class ColumnSums
{
    /// <summary>sums[j] = (accumulate ? sums[j] : 0) + Σ_i x[i, j].</summary>
    public static void Add(ReadOnlySpan<float> x, int rows, int cols, Span<float> sums, bool accumulate = false)
        => Add(x, rows, cols, sums, accumulate, Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? SimdLevel.Vector512 : SimdLevel.Scalar);

    internal static void Add(ReadOnlySpan<float> x, int rows, int cols, Span<float> sums, bool accumulate, SimdLevel level)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (x.Length < (long)rows * cols)
            throw new ArgumentException($"Span 'x' holds {x.Length} floats but the batch needs {(long)rows * cols}.", nameof(x));
        if (sums.Length < cols)
            throw new ArgumentException($"Span 'sums' holds {sums.Length} floats but the batch needs {cols}.", nameof(sums));
        fixed (float* px = x, ps = sums)
        {
            if (level == SimdLevel.Vector512)
            {
                for (int j = 0; j < cols; j += 16)
                {
                    var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols - j)).AsSingle();
                    var sum = Vector512<float>.Zero;
                    for (int i = 0; i < rows; i++) sum += Avx512F.MaskLoad(px + (long)i * cols + j, mask, Vector512<float>.Zero);
                    if (accumulate) sum = Avx512F.MaskLoad(ps + j, mask, Vector512<float>.Zero) + sum;
                    Avx512F.MaskStore(ps + j, mask, sum);
                }
                return;
            }
            for (int j = 0; j < cols; j++)
            {
                float sum = 0;
                for (int i = 0; i < rows; i++) sum += px[(long)i * cols + j];
                ps[j] = accumulate ? ps[j] + sum : sum;
            }
        }
    }
}
