using System.Text;

namespace Microsoft.ML.BatchNormMlp.MlNet;

/// <summary>Text to symbol ids for the ML.NET columns, with errors that name the column, the row and the position.</summary>
internal static class SymbolEncoding
{
    /// <summary>
    /// Writes the ids of <paramref name="text"/>'s symbols into <paramref name="ids"/> (grown when needed) and returns
    /// how many. A symbol outside the vocabulary maps to the unknown id when one is reserved and is an error
    /// otherwise, as are the boundary symbol and a lone surrogate.
    /// </summary>
    public static int Encode(ReadOnlySpan<char> text, Vocabulary vocabulary, ref int[] ids, string column, long row)
    {
        int count = 0, character = 0;
        for (int offset = 0; offset < text.Length;)
        {
            character++;
            if (Rune.DecodeFromUtf16(text[offset..], out Rune rune, out int consumed) != System.Buffers.OperationStatus.Done)
                throw Fault(column, row, text, $"character {character} is a lone UTF-16 surrogate, not a Unicode symbol");
            offset += consumed;
            if (vocabulary.TryGetId(rune, out int id))
            {
                if (id == Vocabulary.BoundaryId)
                    throw Fault(column, row, text, $"character {character} is the boundary symbol '{rune}', which only pads contexts and ends names");
            }
            else if (vocabulary.UnknownId is int unknown) id = unknown;
            else throw Fault(column, row, text, $"symbol '{rune}' (U+{rune.Value:X4}) at character {character} is not in the featurizer's vocabulary of {vocabulary.Count} symbols (fitted on other names; reserve an unknown symbol to map such symbols)");
            if (count == ids.Length) Array.Resize(ref ids, 2 * ids.Length);
            ids[count++] = id;
        }
        return count;
    }

    /// <summary>
    /// The context of the next symbol after <paramref name="prefix"/>: its last <paramref name="context"/>.Length
    /// symbols' ids, padded at the start with the boundary id, as the featurizer makes them.
    /// <paramref name="scratch"/> holds the prefix's ids (grown when needed).
    /// </summary>
    public static void LastContext(ReadOnlySpan<char> prefix, Vocabulary vocabulary, Span<int> context, ref int[] scratch, string column, long row)
    {
        int count = Encode(prefix, vocabulary, ref scratch, column, row);
        int take = Math.Min(count, context.Length);
        context.Clear();   // the boundary id is 0
        scratch.AsSpan(count - take, take).CopyTo(context[(context.Length - take)..]);
    }

    private static ArgumentException Fault(string column, long row, ReadOnlySpan<char> text, string what) =>
        new($"Column '{column}', row {row} (\"{text}\"): {what}.");
}
