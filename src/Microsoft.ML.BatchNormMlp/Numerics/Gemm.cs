namespace Microsoft.ML.BatchNormMlp.Numerics;

/// <summary>
/// Dense row-major float32 matrix products in the three orientations that a Linear layer needs:
/// forward <c>Y = X·Wᵀ</c> (<see cref="MultiplyNT"/>), input gradient <c>dX = dY·W</c> (<see cref="MultiplyNN"/>)
/// and weight gradient <c>dW = dYᵀ·X</c> (<see cref="MultiplyTN"/>).
/// All operands are contiguous (leading dimension = column count). With <c>accumulate</c> the product is added
/// to C (what a residual branch or a shared gradient needs); otherwise C is overwritten.
/// Results are deterministic for a given thread count: every output element is reduced in a fixed order.
/// </summary>
internal static class Gemm
{
    /// <summary>C[m,n] (+)= A[m,k] · B[n,k]ᵀ.</summary>
    public static void MultiplyNT(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate = false, int threads = 1)
    {
        Check(a.Length, m * k, nameof(a)); Check(b.Length, n * k, nameof(b)); Check(c.Length, m * n, nameof(c));
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[j * k + p];
                c[i * n + j] = accumulate ? c[i * n + j] + s : s;
            }
    }

    /// <summary>C[m,n] (+)= A[m,k] · B[k,n].</summary>
    public static void MultiplyNN(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate = false, int threads = 1)
    {
        Check(a.Length, m * k, nameof(a)); Check(b.Length, k * n, nameof(b)); Check(c.Length, m * n, nameof(c));
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
                c[i * n + j] = accumulate ? c[i * n + j] + s : s;
            }
    }

    /// <summary>C[m,n] (+)= A[k,m]ᵀ · B[k,n].</summary>
    public static void MultiplyTN(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate = false, int threads = 1)
    {
        Check(a.Length, k * m, nameof(a)); Check(b.Length, k * n, nameof(b)); Check(c.Length, m * n, nameof(c));
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++) s += a[p * m + i] * b[p * n + j];
                c[i * n + j] = accumulate ? c[i * n + j] + s : s;
            }
    }

    private static void Check(int actual, int required, string name)
    {
        if (actual < required)
            throw new ArgumentException($"Span '{name}' holds {actual} floats but the product needs {required}.", name);
    }
}
