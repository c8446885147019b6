namespace Microsoft.ML.BatchNormMlp.Training.Diagnostics;

/// <summary>What a histogram's heights mean.</summary>
internal enum HistogramScale
{
    /// <summary>Values per bin (matplotlib's <c>hist</c>).</summary>
    Count,
    /// <summary>Count / (total * bin width), integrating to 1 (<c>torch.histogram(density=True)</c>).</summary>
    Density,
}

/// <summary>A named histogram: <c>Edges.Length == Heights.Length + 1</c>, edges increasing.</summary>
internal sealed class HistogramSeries
{
    public HistogramSeries(string name, double[] edges, double[] heights)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (edges.Length != heights.Length + 1)
            throw new ArgumentException($"Histogram '{name}' has {heights.Length} bins but {edges.Length} edges; it needs one edge more than bins.", nameof(edges));
        for (int i = 1; i < edges.Length; i++)
            if (!(edges[i] > edges[i - 1]))
                throw new ArgumentException($"Histogram '{name}': edge {i} ({edges[i]}) is not above edge {i - 1} ({edges[i - 1]}).", nameof(edges));
        (Name, Edges, Heights) = (name, edges, heights);
    }

    public string Name { get; }
    public double[] Edges { get; }
    public double[] Heights { get; }
}

/// <summary>Bins values the way <c>torch.histogram</c> does: equal-width bins over [min, max], max in the last bin.</summary>
internal static class Histogram
{
    /// <summary>
    /// Histogram of the finite values of <paramref name="values"/> in [<paramref name="min"/>, <paramref name="max"/>];
    /// NaN, infinities and values outside the range are left out.
    /// </summary>
    public static HistogramSeries Compute(string name, ReadOnlySpan<float> values, int bins, double min, double max,
        HistogramScale scale = HistogramScale.Count)
    {
        if (bins < 1) throw new ArgumentOutOfRangeException(nameof(bins), bins, "A histogram needs at least one bin.");
        if (!double.IsFinite(min) || !double.IsFinite(max) || !(max > min))
            throw new ArgumentException($"Histogram '{name}': the range [{min}, {max}] must be finite with max above min.", nameof(max));
        var counts = new double[bins];
        double width = (max - min) / bins;
        long total = 0;
        foreach (float v in values)
        {
            if (!float.IsFinite(v) || v < min || v > max) continue;
            int b = Math.Min(bins - 1, (int)((v - min) / width));
            counts[b]++;
            total++;
        }
        if (scale == HistogramScale.Density && total > 0)
            for (int b = 0; b < bins; b++) counts[b] /= total * width;
        var edges = new double[bins + 1];
        for (int e = 0; e <= bins; e++) edges[e] = min + e * width;
        return new HistogramSeries(name, edges, counts);
    }

    /// <summary>Histogram over the finite range of <paramref name="values"/> itself (a unit range around a constant).</summary>
    public static HistogramSeries Compute(string name, ReadOnlySpan<float> values, int bins, HistogramScale scale = HistogramScale.Count)
    {
        var (min, max) = Range(values);
        return Compute(name, values, bins, min, max, scale);
    }

    /// <summary>
    /// The smallest and largest finite value over several arrays, so that overlaid histograms share their bins;
    /// (-0.5, 0.5) around a constant and (0, 1) when nothing is finite.
    /// </summary>
    public static (double Min, double Max) Range(params ReadOnlySpan<float[]> arrays)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var array in arrays)
            foreach (float v in array)
                if (float.IsFinite(v)) { min = Math.Min(min, v); max = Math.Max(max, v); }
        return FixRange(min, max);
    }

    private static (double Min, double Max) Range(ReadOnlySpan<float> values)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (float v in values)
            if (float.IsFinite(v)) { min = Math.Min(min, v); max = Math.Max(max, v); }
        return FixRange(min, max);
    }

    private static (double, double) FixRange(double min, double max)
    {
        if (min > max) return (0, 1);
        if (min == max) return (min - 0.5, max + 0.5);
        return (min, max);
    }
}
