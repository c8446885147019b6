using Microsoft.ML.BatchNormMlp.Featurization;
using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// Featurized names: one row per symbol position (the ids of the previous symbols and the id that follows), with
/// the vocabulary they were encoded with. Read from an IDataView by the trainer (MlNet/KeyRows) or made by Featurization/ContextWindowFeaturizer; immutable.
/// </summary>
internal sealed class CharacterDataset
{
    internal CharacterDataset(Vocabulary vocabulary, ContextWindows windows, int nameCount)
    {
        Vocabulary = vocabulary;
        Windows = windows;
        NameCount = nameCount;
        Rows = Dataset.FromContexts(windows.Contexts, windows.ContextLength, windows.Targets);
    }

    /// <summary>The context rows of <paramref name="names"/> over <paramref name="vocabulary"/> (the engine's featurizer, for the CLI, tests and benchmarks).</summary>
    /// <exception cref="ArgumentException">A name holds a symbol outside the vocabulary (the message names it and its position).</exception>
    internal static CharacterDataset Featurize(IReadOnlyList<string> names, Vocabulary vocabulary, int contextLength) =>
        new(vocabulary, ContextWindowFeaturizer.Featurize(names, vocabulary, contextLength), names.Count);

    internal ContextWindows Windows { get; }

    internal Dataset Rows { get; }

    /// <summary>The vocabulary the ids refer to.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>Previous symbols in each context.</summary>
    public int ContextLength => Windows.ContextLength;

    /// <summary>Number of rows (the names' symbols plus one end-of-name row per name).</summary>
    public int Count => Windows.Count;

    /// <summary>Number of names featurized.</summary>
    public int NameCount { get; }

    /// <summary>The context ids of row <paramref name="row"/> (a copy).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is not in [0, <see cref="Count"/>).</exception>
    public int[] GetContext(int row) => Windows.Context(CheckRow(row)).ToArray();

    /// <summary>The id that follows the context of row <paramref name="row"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is not in [0, <see cref="Count"/>).</exception>
    public int GetTarget(int row) => Windows.Targets[CheckRow(row)];

    private int CheckRow(int row) => (uint)row < (uint)Count ? row
        : throw new ArgumentOutOfRangeException(nameof(row), row, $"Row {row} is not in this data set of {Count} rows.");
}
