namespace Microsoft.ML.BatchNormMlp.Training.Diagnostics;

/// <summary>Ranges for <see cref="HistogramSeries.Compute(string, ReadOnlySpan{float}, int, double, double, HistogramScale)"/>.</summary>
internal static class Histogram
{
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

    /// <summary>The finite range of one span, as <see cref="Range(ReadOnlySpan{float[]})"/>.</summary>
    public static (double Min, double Max) Range(ReadOnlySpan<float> values)
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
