using Microsoft.ML.BatchNormMlp.Featurization;
using Microsoft.ML.Data;

namespace Microsoft.ML.BatchNormMlp.MlNet;

/// <summary>
/// Reads the trainer's two columns (a key vector of context ids and a key label) out of an IDataView, once, into
/// the engine's flat arrays, after checking everything a user can get wrong, with messages that name the column.
/// </summary>
internal static class KeyRows
{
    /// <summary>The rows of <paramref name="data"/> as engine rows, checked against <paramref name="expected"/>'s vocabulary and context length when given.</summary>
    public static CharacterDataset Read(IDataView data, string featureColumn, string labelColumn, CharacterDataset? expected, string role)
    {
        var (features, label, vocabulary, n) = CheckSchema(data.Schema, featureColumn, labelColumn, role);
        if (expected is not null)
        {
            if (n != expected.ContextLength)
                throw new ArgumentException($"Column '{featureColumn}' of the {role} data holds contexts of {n} symbols but the training data's hold {expected.ContextLength}; featurize both with the same featurizer.", nameof(data));
            if (!VocabularyColumns.Same(vocabulary, expected.Vocabulary))
                throw new ArgumentException($"Column '{featureColumn}' of the {role} data was made with another vocabulary ({vocabulary}) than the training data ({expected.Vocabulary}); featurize both with the same fitted featurizer.", nameof(data));
            vocabulary = expected.Vocabulary;
        }

        var contexts = new List<int>();
        var targets = new List<int>();
        int names = 0;
        var ids = new int[n];
        using (var cursor = data.GetRowCursor([features, label]))
        {
            var contextGetter = cursor.GetGetter<VBuffer<uint>>(features);
            var labelGetter = cursor.GetGetter<uint>(label);
            VBuffer<uint> context = default;
            uint target = 0;
            long row = 0;
            while (cursor.MoveNext())
            {
                contextGetter(ref context);
                labelGetter(ref target);
                if (target == 0 || target > vocabulary.Count)
                    throw new ArgumentException($"Column '{labelColumn}', row {row} of the {role} data: the label is a missing key (0); every row needs the key of the next symbol.", nameof(data));
                if (ToIds(context, ids, vocabulary.Count) is int j and >= 0)
                    throw new ArgumentException($"Column '{featureColumn}', row {row} of the {role} data: context position {j} is a missing key (0); contexts are padded with the boundary symbol, never left missing.", nameof(data));
                contexts.AddRange(ids);
                targets.Add((int)target - 1);
                if (target - 1 == Vocabulary.BoundaryId) names++;
                row++;
            }
        }
        if (targets.Count == 0 && expected is null)
            throw new ArgumentException($"The {role} data has no rows (columns '{featureColumn}' and '{labelColumn}'); there is nothing to train on.", nameof(data));
        return new CharacterDataset(vocabulary, new ContextWindows(n, [.. contexts], [.. targets]), names);
    }

    /// <summary>Checks both columns' types and vocabularies; returns them with the vocabulary and context length.</summary>
    public static (DataViewSchema.Column Features, DataViewSchema.Column Label, Vocabulary Vocabulary, int ContextLength) CheckSchema(
        DataViewSchema schema, string featureColumn, string labelColumn, string role)
    {
        var features = Column(schema, featureColumn, "the context", role);
        var label = Column(schema, labelColumn, "the label", role);
        var (vocabulary, n) = ContextColumn(features, role);
        if (label.Type is not KeyDataViewType lkey || lkey.RawType != typeof(uint))
            throw new ArgumentException($"Column '{labelColumn}' (the label) of the {role} data must be a UInt32 key of the next symbol, as the context-window featurizer writes; it is {label.Type}.", nameof(schema));
        if (vocabulary is null)
            throw new ArgumentException($"Column '{featureColumn}' (the context) of the {role} data carries no vocabulary (KeyValues annotation with one symbol per key); make it with mlContext.Transforms.Text.FeaturizeContextWindows.", nameof(schema));
        var labels = VocabularyColumns.Read(label)
            ?? throw new ArgumentException($"Column '{labelColumn}' (the label) of the {role} data carries no vocabulary (KeyValues annotation with one symbol per key); make it with mlContext.Transforms.Text.FeaturizeContextWindows.", nameof(schema));
        if (!VocabularyColumns.Same(vocabulary, labels))
            throw new ArgumentException($"Columns '{featureColumn}' and '{labelColumn}' of the {role} data were made with different vocabularies ({vocabulary}; {labels}): a label column from another featurizer. Featurize the names once and use its context and label columns together.", nameof(schema));
        return (features, label, vocabulary, n);
    }

    /// <summary>
    /// Checks that <paramref name="features"/> is a context column (a known-size vector of UInt32 keys); returns the
    /// vocabulary its annotations describe (null when it carries none) and the context length.
    /// </summary>
    public static (Vocabulary? Vocabulary, int ContextLength) ContextColumn(DataViewSchema.Column features, string role)
    {
        if (features.Type is not VectorDataViewType { IsKnownSize: true, ItemType: KeyDataViewType key } vector || key.RawType != typeof(uint))
            throw new ArgumentException($"Column '{features.Name}' (the context) of the {role} data must be a known-size vector of UInt32 keys, as the context-window featurizer writes; it is {features.Type}.", "schema");
        return (VocabularyColumns.Read(features), vector.Size);
    }

    /// <summary>
    /// The context column named <paramref name="name"/> of data a trained model reads: a context column of
    /// <paramref name="contextLength"/> keys over <paramref name="vocabulary"/>, or an exception naming what differs.
    /// </summary>
    public static DataViewSchema.Column ModelContextColumn(DataViewSchema schema, string name, Vocabulary vocabulary, int contextLength, string parameter)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(parameter, $"The input has no column '{name}' (the context the model reads). Columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");
        var (columnVocabulary, n) = ContextColumn(column, "input");
        if (n != contextLength)
            throw new ArgumentException($"Column '{name}' holds contexts of {n} symbols but the model reads {contextLength}.", parameter);
        if (columnVocabulary is null || !VocabularyColumns.Same(columnVocabulary, vocabulary))
            throw new ArgumentException($"Column '{name}' was made with {(columnVocabulary is null ? "no vocabulary annotation" : $"another vocabulary ({columnVocabulary})")} than the model's ({vocabulary}); featurize with the featurizer the model was trained on.", parameter);
        return column;
    }

    /// <summary>Every row's context ids [rows, <paramref name="contextLength"/>] of a column <see cref="ModelContextColumn"/> accepts.</summary>
    public static int[] ReadContexts(IDataView data, string name, Vocabulary vocabulary, int contextLength, string role)
    {
        var column = ModelContextColumn(data.Schema, name, vocabulary, contextLength, nameof(data));
        var contexts = new List<int>();
        var ids = new int[contextLength];
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<uint>>(column);
        VBuffer<uint> keys = default;
        for (long row = 0; cursor.MoveNext(); row++)
        {
            getter(ref keys);
            if (ToIds(keys, ids, vocabulary.Count) is int j and >= 0)
                throw new ArgumentException($"Column '{name}', row {row} of the {role} data: context position {j} is a missing key (0); contexts are padded with the boundary symbol, never left missing.", nameof(data));
            contexts.AddRange(ids);
        }
        return [.. contexts];
    }

    /// <summary>
    /// The vocabulary ids (key value - 1) of a context's keys, into <paramref name="ids"/>; returns the first position
    /// holding a missing key (0, or a sparse vector's absent entry), or -1. Dense vectors, as the featurizer writes
    /// them, are read as a span.
    /// </summary>
    public static int ToIds(in VBuffer<uint> keys, Span<int> ids, int symbols)
    {
        if (keys.IsDense) { var values = keys.GetValues(); for (int j = 0; j < ids.Length; j++) ids[j] = (int)values[j] - 1; }
        else { int j = 0; foreach (uint key in keys.DenseValues()) ids[j++] = (int)key - 1; }
        for (int j = 0; j < ids.Length; j++)
            if ((uint)ids[j] >= (uint)symbols) return j;
        return -1;
    }

    private static DataViewSchema.Column Column(DataViewSchema schema, string name, string what, string role) =>
        schema.GetColumnOrNull(name)
        ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The {role} data has no column '{name}' ({what}). Columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");

    /// <summary>The estimator-time check on a shape: the column exists and is a key (vector or scalar).</summary>
    public static void CheckShape(SchemaShape shape, string name, bool vector)
    {
        string what = vector ? "the context, a vector of keys" : "the label, a key";
        var column = SchemaShapes.Require(shape, name, vector ? "the context" : "the label", vector ? "a vector of keys" : "a key");
        bool ok = column.IsKey && (vector ? column.Kind == SchemaShape.Column.VectorKind.Vector : column.Kind == SchemaShape.Column.VectorKind.Scalar);
        if (!ok)
            throw new ArgumentException($"Column '{name}' must be {what} (as the context-window featurizer writes); it is {ContextWindowEstimator.Describe(column)}.", nameof(shape));
    }
}
