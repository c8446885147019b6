namespace BatchNormMlp.Samples.TrainerComparison;

/// <summary>A BatchNormMlp preset entered in the comparison, and the context it is featurized at.</summary>
internal sealed record PresetEntry(string Label, string Preset, int Context);

/// <summary>
/// The BatchNormMlp rows of the comparison, in one place: the seeds' <c>bn1</c> at context 3, and the presets
/// meant to win, <c>quality</c> at context 8 and <c>quality-c3</c> at context 3.
/// </summary>
internal static class ComparedPresets
{
    /// <summary>
    /// <c>quality-c3</c> is being tuned on another branch. Until the library ships it, its stand-in is the
    /// <c>quality</c> architecture and schedule featurized at context 3 (the trainer takes the context length from
    /// the data); the row's label says which one ran. Once the preset exists it is picked up with no change here.
    /// </summary>
    public static string QualityC3 => CharacterModelDefaults.Presets.Contains("quality-c3") ? "quality-c3" : "quality";

    public static IReadOnlyList<PresetEntry> For(int context) => context switch
    {
        3 => [new("BatchNormMlp bn1", "bn1", 3),
              new(QualityC3 == "quality-c3" ? "BatchNormMlp quality-c3" : "BatchNormMlp quality at context 3 (stand-in for quality-c3)", QualityC3, 3)],
        8 => [new("BatchNormMlp quality", "quality", 8)],
        _ => [new("BatchNormMlp bn1", "bn1", context)],
    };
}
