namespace BatchNormMlp.Samples.TrainerComparison;

/// <summary>A BatchNormMlp preset entered in the comparison, and the context it is featurized at.</summary>
internal sealed record PresetEntry(string Label, string Preset, int Context);

/// <summary>
/// The BatchNormMlp rows of the comparison, in one place: the seeds' <c>bn1</c> at context 3, and the presets
/// meant to win, <c>quality</c> at context 8 and <c>quality-c3</c> at context 3.
/// </summary>
internal static class ComparedPresets
{
    public static IReadOnlyList<PresetEntry> For(int context) => context switch
    {
        3 => [new("BatchNormMlp bn1", "bn1", 3), new("BatchNormMlp quality-c3", "quality-c3", 3)],
        8 => [new("BatchNormMlp quality", "quality", 8)],
        _ => [new("BatchNormMlp bn1", "bn1", context)],
    };
}
