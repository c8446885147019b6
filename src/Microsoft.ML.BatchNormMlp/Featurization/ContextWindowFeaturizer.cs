using System.Text;

namespace Microsoft.ML.BatchNormMlp.Featurization;

/// <summary>
/// Turns names into context windows, as the seeds' <c>build_dataset</c> does: a name w of len(w) symbols gives
/// len(w)+1 rows; the context starts as N boundary ids, each row's target is the next symbol, and the last
/// target is the boundary id (end of name). Lengths count Unicode scalar values.
/// </summary>
internal static class ContextWindowFeaturizer
{
    /// <exception cref="ArgumentException">A name holds a symbol outside <paramref name="vocabulary"/> (the message names the name and position).</exception>
    public static ContextWindows Featurize(IReadOnlyList<string> names, Vocabulary vocabulary, int contextLength)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (contextLength < 1) throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength, "The context length must be at least 1.");

        long rowCount = 0;
        foreach (string name in names) rowCount += CountSymbols(name) + 1;
        if (rowCount * contextLength > Array.MaxLength)
            throw new ArgumentException($"{rowCount} rows of {contextLength} context ids do not fit in one array.", nameof(names));

        var contexts = new int[rowCount * contextLength]; // [rows, N], zero = boundary padding
        var targets = new int[rowCount];                  // [rows]
        int row = 0;
        for (int n = 0; n < names.Count; n++)
        {
            int[] ids = vocabulary.Encode(names[n]);
            // Row r's context is the name's ids r-N .. r-1, with boundary ids (0) before the start.
            for (int r = 0; r <= ids.Length; r++, row++)
            {
                Span<int> context = contexts.AsSpan(row * contextLength, contextLength);
                int from = r - contextLength;
                for (int k = Math.Max(0, -from); k < contextLength; k++) context[k] = ids[from + k];
                targets[row] = r < ids.Length ? ids[r] : Vocabulary.BoundaryId;
            }
        }
        return new ContextWindows(contextLength, contexts, targets);
    }

    private static int CountSymbols(string name)
    {
        int count = 0;
        foreach (Rune _ in name.EnumerateRunes()) count++;
        return count;
    }
}
