using Microsoft.ML.Data;

namespace Microsoft.ML.BatchNormMlp.MlNet;

/// <summary>
/// How a vocabulary travels with ML.NET columns. Symbol id i is key value i + 1 (ML.NET keys are 1-based; 0 means
/// missing), so a key's count is the vocabulary size and <c>Score[i]</c> is the probability of symbol id i. The
/// symbols themselves ride along as the standard <c>KeyValues</c> annotation (so <c>MapKeyToValue</c> prints them
/// and the trainer can tell one featurizer's vocabulary from another's), plus one annotation of our own that says
/// whether the last symbol is the reserved unknown symbol.
/// </summary>
internal static class VocabularyColumns
{
    /// <summary>ML.NET's standard annotation kinds (AnnotationUtils.Kinds is internal).</summary>
    public const string KeyValues = "KeyValues", SlotNames = "SlotNames";

    /// <summary>Our annotation: true when the vocabulary's last symbol is the reserved unknown symbol.</summary>
    public const string UnknownSymbolKind = "BatchNormMlp.LastSymbolIsUnknown";

    public static KeyDataViewType KeyType(Vocabulary vocabulary) => new(typeof(uint), vocabulary.Count);

    /// <summary>KeyValues (and our unknown-symbol flag) for a key column, or a key vector column, over <paramref name="vocabulary"/>.</summary>
    public static DataViewSchema.Annotations KeyAnnotations(Vocabulary vocabulary)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        builder.Add(KeyValues, new VectorDataViewType(TextDataViewType.Instance, vocabulary.Count), SymbolsGetter(vocabulary));
        builder.Add(UnknownSymbolKind, BooleanDataViewType.Instance, (ref bool value) => value = vocabulary.UnknownId is not null);
        return builder.ToAnnotations();
    }

    /// <summary>SlotNames for the Score vector: slot i is symbol id i.</summary>
    public static DataViewSchema.Annotations SlotNameAnnotations(Vocabulary vocabulary)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        builder.Add(SlotNames, new VectorDataViewType(TextDataViewType.Instance, vocabulary.Count), SymbolsGetter(vocabulary));
        return builder.ToAnnotations();
    }

    private static ValueGetter<VBuffer<ReadOnlyMemory<char>>> SymbolsGetter(Vocabulary vocabulary) =>
        (ref VBuffer<ReadOnlyMemory<char>> value) =>
        {
            var editor = VBufferEditor.Create(ref value, vocabulary.Count);
            for (int i = 0; i < vocabulary.Count; i++) editor.Values[i] = vocabulary.Symbols[i].AsMemory();
            value = editor.Commit();
        };

    /// <summary>The vocabulary a key (or key vector) column's annotations describe, or null when it carries none.</summary>
    public static Vocabulary? Read(DataViewSchema.Column column)
    {
        var key = (column.Type as VectorDataViewType)?.ItemType as KeyDataViewType ?? column.Type as KeyDataViewType;
        if (key is null || !column.HasKeyValues(TextDataViewType.Instance)) return null;
        VBuffer<ReadOnlyMemory<char>> values = default;
        column.GetKeyValues(ref values);
        var symbols = values.DenseValues().Select(v => v.ToString()).ToArray();
        if ((ulong)symbols.Length != key.Count) return null;
        bool unknown = false;
        if (column.Annotations.Schema.GetColumnOrNull(UnknownSymbolKind) is { } flag && flag.Type is BooleanDataViewType)
            column.Annotations.GetValue(UnknownSymbolKind, ref unknown);
        try { return Vocabulary.FromSymbols(symbols, unknown); }
        catch (ArgumentException) { return null; }
    }

    /// <summary>Whether two vocabularies hold the same symbols in the same order (and the same unknown symbol).</summary>
    public static bool Same(Vocabulary a, Vocabulary b) =>
        ReferenceEquals(a, b) || (a.UnknownId == b.UnknownId && a.Symbols.SequenceEqual(b.Symbols));
}
