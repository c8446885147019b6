using Microsoft.ML.Data;

namespace Microsoft.ML.BatchNormMlp.MlNet;

/// <summary>
/// Builds the <see cref="SchemaShape"/> an estimator's <c>GetOutputSchema</c> returns. ML.NET gives no public way
/// to make a <see cref="SchemaShape.Column"/> (its constructor is internal: dotnet/machinelearning issue 3243), but
/// its public <c>CustomMapping</c> estimator derives output columns from a <see cref="SchemaDefinition"/>, which
/// can say anything a column can be: a key of a given count, a vector of a given size, annotations. So the added
/// columns are described as a schema definition and that estimator's schema propagation (never its mapping) is
/// run on the input shape.
/// </summary>
internal static class SchemaShapes
{
    private static readonly MLContext Context = new(seed: 0);

    /// <summary>One added column: which member of <see cref="ShapeRow"/> stands for it and its real type.</summary>
    public sealed record Added(string Name, ShapeMember Member, DataViewType Type, params string[] AnnotationKinds);

    public enum ShapeMember { Key, KeyVector, Vector, Text, Number }

    /// <summary>The input shape with <paramref name="columns"/> added (replacing input columns of the same names).</summary>
    public static SchemaShape With(SchemaShape input, params Added[] columns)
    {
        ArgumentNullException.ThrowIfNull(input);
        var definition = SchemaDefinition.Create(typeof(ShapeRow));
        var used = new List<SchemaDefinition.Column>();
        foreach (var c in columns)
        {
            var column = definition.Single(d => d.MemberName == c.Member.ToString());
            if (used.Contains(column)) throw new InvalidOperationException($"Shape member {c.Member} used twice.");
            column.ColumnName = c.Name;
            column.ColumnType = c.Type;
            foreach (string kind in c.AnnotationKinds)
            {
                // Only the kind and type of an annotation reach a SchemaShape; the value is a placeholder.
                var textVector = new VectorDataViewType(TextDataViewType.Instance, 1);
                column.AddAnnotation(kind, new VBuffer<ReadOnlyMemory<char>>(1, [ReadOnlyMemory<char>.Empty]), textVector);
            }
            used.Add(column);
        }
        foreach (var unused in definition.Except(used).ToList()) definition.Remove(unused);
        var estimator = Context.Transforms.CustomMapping<NoInput, ShapeRow>((_, _) => { }, contractName: null, outputSchemaDefinition: definition);
        return estimator.GetOutputSchema(input);
    }

    /// <summary>The input columns of the shape-only mapping: none.</summary>
    private sealed class NoInput;

#pragma warning disable CS0649 // members stand for columns; the mapping never runs
    private sealed class ShapeRow
    {
        public uint Key;
        public uint[]? KeyVector;
        public float[]? Vector;
        public string? Text;
        public float Number;
    }
#pragma warning restore CS0649

    /// <summary>The input column named <paramref name="name"/>, or a clear error naming what the estimator expected.</summary>
    public static SchemaShape.Column Require(SchemaShape input, string name, string role, string expected)
    {
        ArgumentNullException.ThrowIfNull(input);
        foreach (var column in input)
            if (column.Name == name) return column;
        throw new ArgumentOutOfRangeException(nameof(input), $"The input has no column '{name}' ({role}); expected {expected}. Columns: {string.Join(", ", input.Select(c => c.Name))}.");
    }
}
