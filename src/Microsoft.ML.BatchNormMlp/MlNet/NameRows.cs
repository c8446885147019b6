using Microsoft.ML.Data;

namespace Microsoft.ML.BatchNormMlp.MlNet;

/// <summary>An in-memory IDataView of one text column, for names that the library itself has read or split.</summary>
internal static class NameRows
{
    private static readonly MLContext Context = new(seed: 0);

    public static IDataView From(IReadOnlyList<string> names, string columnName)
    {
        var definition = SchemaDefinition.Create(typeof(Row));
        definition[nameof(Row.Name)].ColumnName = columnName;
        return Context.Data.LoadFromEnumerable(names.Select(n => new Row { Name = n }), definition);
    }

    private sealed class Row
    {
        public string Name { get; set; } = "";
    }
}
