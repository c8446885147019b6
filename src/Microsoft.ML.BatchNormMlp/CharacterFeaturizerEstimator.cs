namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// Learns the vocabulary of a corpus: <see cref="Fit"/> returns a <see cref="CharacterFeaturizerTransformer"/>
/// that turns names into context rows. Create it with <see cref="CharacterModelCatalog.Featurizer(int, string, string?)"/>.
/// </summary>
public sealed class CharacterFeaturizerEstimator
{
    private readonly CharacterFeaturizerOptions _options;

    internal CharacterFeaturizerEstimator(CharacterFeaturizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        _options.Validate();
    }

    /// <summary>Builds the vocabulary of <paramref name="names"/> (the boundary symbol, then their symbols in code-point order).</summary>
    /// <param name="names">The training names.</param>
    /// <exception cref="ArgumentException">The boundary or unknown symbol occurs in a name (the message names it and the position).</exception>
    public CharacterFeaturizerTransformer Fit(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var vocabulary = Vocabulary.FromCorpus(names, _options.BoundarySymbol, _options.UnknownSymbol);
        return new CharacterFeaturizerTransformer(vocabulary, _options.ContextLength);
    }
}
