namespace Microsoft.ML.BatchNormMlp.Training.Diagnostics;

/// <summary>The summary statistics the seeds print, in double precision, with PyTorch's and NumPy's conventions.</summary>
internal static class SpanStatistics
{
    /// <summary>Where the seeds call a tanh unit saturated: |tanh| above this, where its gradient 1 - y² is below 6%.</summary>
    public const float SaturationThreshold = 0.97f;

    public static double Mean(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) return double.NaN;
        double s = 0;
        foreach (float v in x) s += v;
        return s / x.Length;
    }

    /// <summary>Sample standard deviation (n - 1 in the denominator), as <c>torch.Tensor.std()</c>; NaN below two values.</summary>
    public static double Std(ReadOnlySpan<float> x)
    {
        if (x.Length < 2) return double.NaN;
        double m = Mean(x), s = 0;
        foreach (float v in x) s += (v - m) * (v - m);
        return Math.Sqrt(s / (x.Length - 1));
    }

    /// <summary>Share of values with |x| above <see cref="SaturationThreshold"/> (the seeds' <c>(t.abs() &gt; 0.97).float().mean()</c>).</summary>
    public static double Saturation(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) return double.NaN;
        int n = 0;
        foreach (float v in x) if (MathF.Abs(v) > SaturationThreshold) n++;
        return (double)n / x.Length;
    }

    /// <summary>
    /// The fourth seed's <c>print_variance</c>: each neuron's (column's) variance over the batch, with NumPy's
    /// default n denominator, averaged over the neurons. <paramref name="x"/> is [rows, width].
    /// </summary>
    public static double NeuronVarianceMean(ReadOnlySpan<float> x, int rows, int width)
    {
        if (rows < 1 || width < 1 || x.Length < rows * width) throw new ArgumentException($"[{rows}, {width}] does not fit {x.Length} values.", nameof(x));
        double total = 0;
        for (int j = 0; j < width; j++)
        {
            double m = 0, s = 0;
            for (int r = 0; r < rows; r++) m += x[r * width + j];
            m /= rows;
            for (int r = 0; r < rows; r++) { double d = x[r * width + j] - m; s += d * d; }
            total += s / rows;
        }
        return total / width;
    }
}
