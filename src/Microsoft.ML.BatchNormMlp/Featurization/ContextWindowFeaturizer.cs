using System.Text;

namespace Microsoft.ML.BatchNormMlp.Featurization;

/// <summary>
/// Turns names into context windows, as the seeds' <c>build_dataset</c> does: a name w of len(w) symbols gives
/// len(w)+1 rows; the context starts as N boundary ids, each row's target is the next symbol, and the last
/// target is the boundary id (end of name). Lengths count Unicode scalar values.
/// </summary>
internal static class ContextWindowFeaturizer
{
    /// <summary>
    /// Featurizes straight into two pre-sized arrays: a first pass counts the rows, the second writes them, and
    /// nothing else is allocated per name. Memory is exactly <c>rows * (contextLength + 1)</c> ints.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A name holds a symbol outside <paramref name="vocabulary"/> (the message names the name and position), or the
    /// rows do not fit in one array (see <see cref="Fits"/>).
    /// </exception>
    public static ContextWindows Featurize(IReadOnlyList<string> names, Vocabulary vocabulary, int contextLength)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (contextLength < 1) throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength, "The context length must be at least 1.");

        long rowCount = CountRows(names);
        if (!Fits(rowCount, contextLength))
            throw new ArgumentException($"{rowCount} rows of {contextLength} context ids do not fit in one array.", nameof(names));

        var contexts = new int[rowCount * contextLength]; // [rows, N], zero = boundary padding
        var targets = new int[rowCount];                  // [rows]
        int[] ids = new int[64];                          // one name's ids, reused
        int row = 0;
        for (int n = 0; n < names.Count; n++)
        {
            int length = Encode(names[n], vocabulary, ref ids);
            // Row r's context is the name's ids r-N .. r-1, with boundary ids (0) before the start.
            for (int r = 0; r <= length; r++, row++)
            {
                Span<int> context = contexts.AsSpan(row * contextLength, contextLength);
                int from = r - contextLength;
                for (int k = Math.Max(0, -from); k < contextLength; k++) context[k] = ids[from + k];
                targets[row] = r < length ? ids[r] : Vocabulary.BoundaryId;
            }
        }
        return new ContextWindows(contextLength, contexts, targets);
    }

    /// <summary>The rows <paramref name="names"/> make: one per symbol of each name, plus its end.</summary>
    public static long CountRows(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        long rows = 0;
        foreach (string name in names) rows += CountSymbols(name) + 1;
        return rows;
    }

    /// <summary>Whether <paramref name="rows"/> rows of <paramref name="contextLength"/> ids fit in one .NET array.</summary>
    public static bool Fits(long rows, int contextLength) => rows * contextLength <= Array.MaxLength;

    /// <summary>Writes the ids of <paramref name="name"/> into <paramref name="ids"/> (grown when needed); returns how many.</summary>
    private static int Encode(string name, Vocabulary vocabulary, ref int[] ids)
    {
        int count = 0;
        for (int offset = 0; offset < name.Length;)
        {
            if (Rune.DecodeFromUtf16(name.AsSpan(offset), out Rune rune, out int consumed) != System.Buffers.OperationStatus.Done
                || !vocabulary.TryGetId(rune, out int id))
            {
                vocabulary.Encode(name); // throws the vocabulary's own message, naming the symbol and its position
                throw new InvalidOperationException("unreachable: Encode accepted what TryGetId refused");
            }
            if (count == ids.Length) Array.Resize(ref ids, 2 * ids.Length);
            ids[count++] = id;
            offset += consumed;
        }
        return count;
    }

    private static int CountSymbols(string name)
    {
        int count = 0;
        foreach (Rune _ in name.EnumerateRunes()) count++;
        return count;
    }
}
