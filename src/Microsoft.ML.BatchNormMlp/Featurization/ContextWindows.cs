namespace Microsoft.ML.BatchNormMlp.Featurization;

/// <summary>
/// Training rows of a character model: for each position of each name, the ids of the previous
/// <see cref="ContextLength"/> symbols and the id of the symbol that follows. Flat arrays, so that the engine
/// can gather embedding rows straight from them.
/// </summary>
internal sealed class ContextWindows
{
    public ContextWindows(int contextLength, int[] contexts, int[] targets)
    {
        if (contextLength < 1) throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength, "The context length must be at least 1.");
        if (contexts.Length != targets.Length * contextLength)
            throw new ArgumentException($"{contexts.Length} context ids do not make {targets.Length} rows of {contextLength}.", nameof(contexts));
        ContextLength = contextLength;
        Contexts = contexts;
        Targets = targets;
    }

    /// <summary>Symbols of context per row (N).</summary>
    public int ContextLength { get; }

    /// <summary>Number of rows.</summary>
    public int Count => Targets.Length;

    /// <summary>The context ids, row-major. // [Count, ContextLength]</summary>
    public int[] Contexts { get; }

    /// <summary>The id that follows each context. // [Count]</summary>
    public int[] Targets { get; }

    /// <summary>The context ids of one row. // [ContextLength]</summary>
    public ReadOnlySpan<int> Context(int row) => Contexts.AsSpan(row * ContextLength, ContextLength);

    /// <summary>One row as the seeds print it: <c>..e ---> m</c>.</summary>
    public string Describe(int row, Vocabulary vocabulary) =>
        $"{vocabulary.Decode(Context(row))} ---> {vocabulary.GetSymbol(Targets[row])}";
}
