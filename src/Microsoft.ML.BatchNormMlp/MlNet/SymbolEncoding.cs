using System.Text;

namespace Microsoft.ML.BatchNormMlp.MlNet;

/// <summary>Text to symbol ids for the ML.NET columns, with errors that name the column, the row and the position.</summary>
internal static class SymbolEncoding
{
    /// <summary>
    /// The context of the next symbol after <paramref name="prefix"/>: its last <paramref name="context"/>.Length
    /// symbols' ids, padded at the start with the boundary id. A symbol outside the vocabulary maps to the unknown id
    /// when one is reserved and is an error otherwise, as is the boundary symbol.
    /// </summary>
    public static void LastContext(ReadOnlySpan<char> prefix, Vocabulary vocabulary, Span<int> context, string column, long row)
    {
        int n = context.Length;
        context.Clear();   // the boundary id is 0
        int count = 0, character = 0;
        for (int offset = 0; offset < prefix.Length;)
        {
            character++;
            if (Rune.DecodeFromUtf16(prefix[offset..], out Rune rune, out int consumed) != System.Buffers.OperationStatus.Done)
                throw Fault(column, row, prefix, $"character {character} is a lone UTF-16 surrogate, not a Unicode symbol");
            offset += consumed;
            if (vocabulary.TryGetId(rune, out int id))
            {
                if (id == Vocabulary.BoundaryId)
                    throw Fault(column, row, prefix, $"character {character} is the boundary symbol '{rune}', which only pads contexts and ends names");
            }
            else if (vocabulary.UnknownId is int unknown) id = unknown;
            else throw Fault(column, row, prefix, $"symbol '{rune}' (U+{rune.Value:X4}) at character {character} is not in the vocabulary of {vocabulary.Count} symbols");
            // A ring over the last n ids; unrolled into order below.
            context[count % n] = id;
            count++;
        }
        if (count >= n) RotateLeft(context, count % n);
        else
        {
            // Fewer symbols than the context: they sit at the start; move them to the end behind boundary padding.
            context[..count].CopyTo(context[(n - count)..]);
            context[..(n - count)].Clear();
        }
    }

    private static void RotateLeft(Span<int> values, int by)
    {
        if (by == 0) return;
        Span<int> head = stackalloc int[by];
        values[..by].CopyTo(head);
        values[by..].CopyTo(values);
        head.CopyTo(values[(values.Length - by)..]);
    }

    public static ArgumentException Fault(string column, long row, ReadOnlySpan<char> text, string what) =>
        new($"Column '{column}', row {row} (\"{text}\"): {what}.");
}
