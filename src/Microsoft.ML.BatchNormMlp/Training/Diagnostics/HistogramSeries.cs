using System.Collections.Immutable;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// A named histogram: <see cref="Edges"/> holds one more value than <see cref="Heights"/>, increasing; bin i spans
/// [Edges[i], Edges[i + 1]) and the last bin includes its right edge, as <c>torch.histogram</c> bins. Immutable.
/// </summary>
public sealed class HistogramSeries
{
    /// <summary>A histogram from its bin edges and heights (copied).</summary>
    /// <param name="name">What was binned, e.g. <c>hidden.0 activation</c>.</param>
    /// <param name="edges">The bin edges, increasing: one more than <paramref name="heights"/>.</param>
    /// <param name="heights">The height of each bin, in the unit <paramref name="scale"/> says.</param>
    /// <param name="scale">What the heights mean.</param>
    /// <exception cref="ArgumentException">The edges are not one more than the heights, or not increasing (the message names the histogram and the edge).</exception>
    public HistogramSeries(string name, IEnumerable<double> edges, IEnumerable<double> heights, HistogramScale scale = HistogramScale.Count)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(edges);
        ArgumentNullException.ThrowIfNull(heights);
        if (!Enum.IsDefined(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, $"Histogram '{name}': scale must be Count or Density; got {scale}.");
        var e = edges.ToImmutableArray();
        var h = heights.ToImmutableArray();
        if (e.Length != h.Length + 1)
            throw new ArgumentException($"Histogram '{name}' has {h.Length} bins but {e.Length} edges; it needs one edge more than bins.", nameof(edges));
        for (int i = 1; i < e.Length; i++)
            if (!(e[i] > e[i - 1]))
                throw new ArgumentException($"Histogram '{name}': edge {i} ({e[i]}) is not above edge {i - 1} ({e[i - 1]}).", nameof(edges));
        (Name, Edges, Heights, Scale) = (name, e, h, scale);
    }

    /// <summary>What was binned.</summary>
    public string Name { get; }

    /// <summary>The bin edges, increasing; one more than <see cref="Heights"/>.</summary>
    public ImmutableArray<double> Edges { get; }

    /// <summary>The height of each bin (see <see cref="Scale"/>).</summary>
    public ImmutableArray<double> Heights { get; }

    /// <summary>What the heights mean: counts, or a density that integrates to 1.</summary>
    public HistogramScale Scale { get; }

    /// <summary>The number of bins.</summary>
    public int BinCount => Heights.Length;

    /// <summary>
    /// Bins the finite values of <paramref name="values"/> in [<paramref name="min"/>, <paramref name="max"/>] into
    /// <paramref name="bins"/> equal-width bins, the maximum in the last bin (<c>torch.histogram</c>); NaN,
    /// infinities and values outside the range are left out. Give several histograms the same range to overlay them.
    /// </summary>
    /// <param name="name">What is binned.</param>
    /// <param name="values">The values.</param>
    /// <param name="bins">Number of bins, 1 to <see cref="CharacterModelDefaults.MaxHistogramBins"/>.</param>
    /// <param name="min">The left edge of the first bin.</param>
    /// <param name="max">The right edge of the last bin, above <paramref name="min"/>.</param>
    /// <param name="scale">Counts (default) or a density.</param>
    /// <exception cref="ArgumentOutOfRangeException">The bin count is out of range.</exception>
    /// <exception cref="ArgumentException">The range is not finite or <paramref name="max"/> is not above <paramref name="min"/>.</exception>
    public static HistogramSeries Compute(string name, ReadOnlySpan<float> values, int bins, double min, double max, HistogramScale scale = HistogramScale.Count)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (bins is < 1 or > CharacterModelDefaults.MaxHistogramBins)
            throw new ArgumentOutOfRangeException(nameof(bins), bins, $"A histogram needs at least one bin and at most {CharacterModelDefaults.MaxHistogramBins}; got {bins}.");
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
        return new HistogramSeries(name, edges, counts, scale);
    }

    /// <summary>
    /// <see cref="Compute(string, ReadOnlySpan{float}, int, double, double, HistogramScale)"/> over the finite range
    /// of the values themselves (a unit range around a constant; [0, 1] when none is finite).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The bin count is out of range.</exception>
    public static HistogramSeries Compute(string name, ReadOnlySpan<float> values, int bins, HistogramScale scale = HistogramScale.Count)
    {
        var (min, max) = Training.Diagnostics.Histogram.Range(values);
        return Compute(name, values, bins, min, max, scale);
    }

    /// <summary>"name: 50 bins over [-1, 1]" for display.</summary>
    public override string ToString() => $"{Name}: {BinCount} bins over [{Edges[0]:G4}, {Edges[^1]:G4}] ({Scale})";
}
