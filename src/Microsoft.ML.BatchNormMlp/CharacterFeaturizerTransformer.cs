using Microsoft.ML.BatchNormMlp.Featurization;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// A fitted featurizer: a <see cref="Microsoft.ML.BatchNormMlp.Vocabulary"/> and a context length. Turns names
/// into the rows a character model trains and is evaluated on.
/// </summary>
public sealed class CharacterFeaturizerTransformer
{
    /// <summary>Creates a featurizer for an existing vocabulary (for instance a loaded model's).</summary>
    /// <param name="vocabulary">The symbols and their ids.</param>
    /// <param name="contextLength">Previous symbols per context, 1 to <see cref="CharacterModelDefaults.MaxContextLength"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="contextLength"/> is out of range.</exception>
    public CharacterFeaturizerTransformer(Vocabulary vocabulary, int contextLength)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (contextLength is < 1 or > CharacterModelDefaults.MaxContextLength)
            throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength, $"contextLength must be between 1 and {CharacterModelDefaults.MaxContextLength}; got {contextLength}.");
        Vocabulary = vocabulary;
        ContextLength = contextLength;
    }

    /// <summary>The symbols and their ids.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>Previous symbols in each context.</summary>
    public int ContextLength { get; }

    /// <summary>
    /// The context rows of <paramref name="names"/>: a name of n symbols gives n + 1 rows (each position's previous
    /// <see cref="ContextLength"/> symbols, padded with the boundary symbol, and the symbol that follows; the last
    /// row's target is the boundary symbol).
    /// </summary>
    /// <exception cref="ArgumentException">A name holds a symbol outside the vocabulary (the message names it and its position).</exception>
    public CharacterDataset Transform(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        IReadOnlyList<string> list = names as IReadOnlyList<string> ?? [.. names];
        var windows = ContextWindowFeaturizer.Featurize(list, Vocabulary, ContextLength);
        return new CharacterDataset(Vocabulary, windows, list.Count);
    }
}
