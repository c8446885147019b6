namespace BatchNormMlp.Samples.Reporting;

/// <summary>
/// Colour-blind-safe colours. Categorical series use Okabe and Ito's eight colours (yellow last: it is faint on
/// white), with dash patterns telling apart series beyond eight. Ordered series such as "one line per layer" can
/// use viridis instead, so that depth reads as light-to-dark.
/// </summary>
internal static class Palette
{
    private static readonly string[] OkabeIto =
        ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];

    private static readonly string?[] Dashes = [null, "6 3", "2 2", "8 3 2 3"];

    // Viridis at eleven evenly spaced stops; colours in between are interpolated in sRGB.
    private static readonly int[] Viridis =
        [0x440154, 0x482475, 0x414487, 0x355F8D, 0x2A788E, 0x21918C, 0x22A884, 0x44BF70, 0x7AD151, 0xBDDF26, 0xFDE725];

    public static string Categorical(int index) => OkabeIto[index % OkabeIto.Length];

    /// <summary>The dash pattern for the <paramref name="index"/>-th categorical series (null: solid).</summary>
    public static string? CategoricalDash(int index) => Dashes[(index / OkabeIto.Length) % Dashes.Length];

    /// <summary>
    /// The <paramref name="index"/>-th of <paramref name="count"/> ordered colours, from dark purple to green;
    /// the bright yellow end is left out because it is unreadable as a thin line on white.
    /// </summary>
    public static string Sequential(int index, int count)
    {
        double t = count <= 1 ? 0 : 0.85 * index / (count - 1);
        double position = t * (Viridis.Length - 1);
        int i = Math.Min((int)position, Viridis.Length - 2);
        double f = position - i;
        int a = Viridis[i], b = Viridis[i + 1];
        int Mix(int shift) => (int)Math.Round(((a >> shift) & 0xFF) * (1 - f) + ((b >> shift) & 0xFF) * f);
        return $"#{Mix(16):X2}{Mix(8):X2}{Mix(0):X2}";
    }
}
