using Microsoft.ML.Data;

namespace Microsoft.ML.BatchNormMlp.MlNet;

/// <summary>Reading text columns of names and prefixes, with the errors a user can act on.</summary>
internal static class TextColumns
{
    /// <summary>The text column <paramref name="name"/> of <paramref name="schema"/>, or a clear error.</summary>
    public static DataViewSchema.Column Require(DataViewSchema schema, string name, string role)
    {
        var column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The input has no column '{name}' ({role}); expected a text column. Columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");
        if (column.Type is not TextDataViewType)
            throw new ArgumentException($"Column '{name}' ({role}) must be text (string); it is {column.Type}.", nameof(schema));
        return column;
    }

    /// <summary>Every value of a text column, in row order.</summary>
    public static List<string> ReadAll(IDataView data, DataViewSchema.Column column)
    {
        var values = new List<string>();
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
            values.Add(value.ToString());
        }
        return values;
    }
}
