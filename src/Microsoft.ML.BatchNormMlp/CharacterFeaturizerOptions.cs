namespace Microsoft.ML.BatchNormMlp;

/// <summary>Options of <see cref="CharacterFeaturizerEstimator"/>.</summary>
public sealed class CharacterFeaturizerOptions
{
    /// <summary>Previous symbols in each context, 1 to <see cref="CharacterModelDefaults.MaxContextLength"/>.</summary>
    public int ContextLength { get; set; } = CharacterModelDefaults.ContextLength;

    /// <summary>The boundary symbol (id 0): one printable character that the corpus does not use.</summary>
    public string BoundarySymbol { get; set; } = CharacterModelDefaults.BoundarySymbol;

    /// <summary>
    /// When set, reserves the last id for symbols outside the corpus, printed as this character; inference may then
    /// map unknown symbols to it with <see cref="UnknownSymbolHandling.MapToUnknown"/>. <see langword="null"/> (the
    /// default): an unknown symbol is an error.
    /// </summary>
    public string? UnknownSymbol { get; set; }

    /// <summary>Throws when a field is out of range, naming the field and the allowed range.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ContextLength"/> is out of range.</exception>
    /// <exception cref="ArgumentException">A symbol is not exactly one printable character, or both symbols are the same.</exception>
    public void Validate()
    {
        if (ContextLength is < 1 or > CharacterModelDefaults.MaxContextLength)
            throw new ArgumentOutOfRangeException(nameof(ContextLength), ContextLength,
                $"{nameof(CharacterFeaturizerOptions)}.{nameof(ContextLength)} must be between 1 and {CharacterModelDefaults.MaxContextLength}; got {ContextLength}.");
        CheckSymbol(BoundarySymbol, nameof(BoundarySymbol));
        if (UnknownSymbol is not null)
        {
            CheckSymbol(UnknownSymbol, nameof(UnknownSymbol));
            if (UnknownSymbol == BoundarySymbol)
                throw new ArgumentException($"{nameof(CharacterFeaturizerOptions)}.{nameof(UnknownSymbol)} must differ from the boundary symbol '{BoundarySymbol}'.", nameof(UnknownSymbol));
        }
    }

    /// <summary>A copy of these options.</summary>
    public CharacterFeaturizerOptions Clone() => (CharacterFeaturizerOptions)MemberwiseClone();

    private static void CheckSymbol(string? symbol, string field)
    {
        if (symbol is null || symbol.EnumerateRunes().Count() != 1 || System.Text.Rune.IsControl(System.Text.Rune.GetRuneAt(symbol, 0)))
            throw new ArgumentException($"{nameof(CharacterFeaturizerOptions)}.{field} must be exactly one printable character; got {(symbol is null ? "null" : $"\"{symbol}\"")}.", field);
    }
}
