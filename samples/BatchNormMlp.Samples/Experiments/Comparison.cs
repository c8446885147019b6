using System.Globalization;

namespace BatchNormMlp.Samples.Experiments;

/// <summary>How a figure measured here compares with the one it reproduces.</summary>
internal static class Comparison
{
    /// <summary>"2.112 vs 2.106 (+0.006)": ours, the reference, and the difference, with <paramref name="decimals"/> places.</summary>
    public static string Against(double ours, double reference, int decimals = 3)
    {
        string f = "F" + decimals.ToString(CultureInfo.InvariantCulture);
        double d = ours - reference;
        return $"{ours.ToString(f, CultureInfo.InvariantCulture)} vs {reference.ToString(f, CultureInfo.InvariantCulture)} ({(d >= 0 ? "+" : "")}{d.ToString(f, CultureInfo.InvariantCulture)})";
    }

    public static string F(double value, int decimals = 3) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
