using Microsoft.ML;
using Microsoft.ML.Data;

namespace BatchNormMlp.Samples.TrainerComparison;

/// <summary>
/// The featurizer's rows read back through ML.NET's public cursor API, as vocabulary ids (key value - 1), for the
/// count model, which is plain arithmetic over ids rather than an ML.NET trainer.
/// </summary>
internal static class KeyColumns
{
    /// <summary>Contexts flattened [rows, context] and labels [rows], as ids.</summary>
    public static (int[] Contexts, int[] Labels) Read(IDataView rows, int context, string contextColumn = "Context", string labelColumn = "Label")
    {
        var c = rows.Schema[contextColumn];
        var l = rows.Schema[labelColumn];
        var contexts = new List<int>();
        var labels = new List<int>();
        using var cursor = rows.GetRowCursor([c, l]);
        var getContext = cursor.GetGetter<VBuffer<uint>>(c);
        var getLabel = cursor.GetGetter<uint>(l);
        VBuffer<uint> keys = default;
        uint label = 0;
        while (cursor.MoveNext())
        {
            getContext(ref keys);
            getLabel(ref label);
            foreach (uint key in keys.DenseValues()) contexts.Add((int)key - 1);
            labels.Add((int)label - 1);
        }
        if (contexts.Count != labels.Count * context)
            throw new InvalidDataException($"Column '{contextColumn}' holds {contexts.Count} ids for {labels.Count} rows; expected {context} per row.");
        return (contexts.ToArray(), labels.ToArray());
    }

    /// <summary>Rows of the featurized data: what the comparison reports as each split's size.</summary>
    public static long Count(IDataView rows)
    {
        long n = 0;
        using var cursor = rows.GetRowCursor([]);
        while (cursor.MoveNext()) n++;
        return n;
    }
}
