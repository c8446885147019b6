namespace Microsoft.ML.BatchNormMlp;

/// <summary>What the heights of a <see cref="HistogramSeries"/> mean.</summary>
public enum HistogramScale
{
    /// <summary>Values per bin (matplotlib's <c>hist</c>): the heights sum to the number of values binned.</summary>
    Count,
    /// <summary>Count / (values binned × bin width), so that the histogram integrates to 1 (<c>torch.histogram(density=True)</c>).</summary>
    Density,
}
