namespace Microsoft.ML.BatchNormMlp.Layers;

/// <summary>
/// Mean and unbiased variance of each column of rows that arrive in chunks: one pass, in double, with every value
/// shifted by the first row seen so that Σd² - (Σd)²/n does not cancel. What <see cref="BatchNorm1d.Calibrate"/>
/// needs to summarize a whole data set without holding it.
/// </summary>
internal sealed class ColumnMoments
{
    private readonly double[] _shift, _sum, _sumSquares;

    public ColumnMoments(int width)
    {
        if (width <= 0) throw new ArgumentOutOfRangeException(nameof(width), width, "Width must be positive.");
        Width = width;
        _shift = new double[width]; _sum = new double[width]; _sumSquares = new double[width];
    }

    public int Width { get; }

    public long Count { get; private set; }

    public void Add(ReadOnlySpan<float> x, int rows) // x [rows, H]
    {
        int h = Width;
        if (x.Length < rows * h) throw new ArgumentException($"{x.Length} values do not make {rows} rows of width {h}.", nameof(x));
        if (rows <= 0) return;
        if (Count == 0)
            for (int j = 0; j < h; j++) _shift[j] = x[j];
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * h, h);
            for (int j = 0; j < h; j++)
            {
                double d = row[j] - _shift[j];
                _sum[j] += d;
                _sumSquares[j] += d * d;
            }
        }
        Count += rows;
    }

    public double Mean(int j) => _shift[j] + _sum[j] / Count;

    /// <summary>Σ(x - mean)² / (n - 1), as PyTorch's running_var and torch.var(unbiased=True).</summary>
    public double UnbiasedVariance(int j) => Math.Max(_sumSquares[j] - _sum[j] * _sum[j] / Count, 0) / (Count - 1);
}
