using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.Data;

namespace Microsoft.ML.BatchNormMlp.MlNet;

/// <summary>
/// Reads the trainer's columns when the features are dense (a known-size vector of Single, e.g. ML.NET's
/// <c>Features</c>) and the label a key of the class, once, into the engine's arrays, with every check a user can
/// get wrong named by column and row. Key value c + 1 is class c.
/// </summary>
internal static class DenseRows
{
    /// <summary>Whether <paramref name="column"/> holds dense feature vectors (a vector of Single) rather than a context of keys.</summary>
    public static bool IsFeatureVector(DataViewSchema.Column column) =>
        column.Type is VectorDataViewType { ItemType: NumberDataViewType item } && item.RawType == typeof(float);

    /// <summary>The feature width and class count of a dense feature column and a key label column.</summary>
    public static (DataViewSchema.Column Features, DataViewSchema.Column Label, int FeatureCount, int ClassCount) CheckSchema(
        DataViewSchema schema, string featureColumn, string labelColumn, string role)
    {
        var features = Column(schema, featureColumn, "the features", role);
        var label = Column(schema, labelColumn, "the label", role);
        if (features.Type is not VectorDataViewType { IsKnownSize: true, ItemType: NumberDataViewType item } vector || item.RawType != typeof(float))
            throw new ArgumentException($"Column '{featureColumn}' (the features) of the {role} data must be a known-size vector of Single; it is {features.Type}. Concatenate or convert the features first (mlContext.Transforms.Concatenate, ConvertType).", nameof(schema));
        if (label.Type is not KeyDataViewType key || key.RawType != typeof(uint))
            throw new ArgumentException($"Column '{labelColumn}' (the label) of the {role} data must be a UInt32 key of the class; it is {label.Type}. Map the labels to keys first (mlContext.Transforms.Conversion.MapValueToKey).", nameof(schema));
        if (key.Count < 2 || key.Count > CharacterModelDefaults.MaxWidth)
            throw new ArgumentException($"Column '{labelColumn}' (the label) of the {role} data is a key of {key.Count} classes; a classifier needs 2 to {CharacterModelDefaults.MaxWidth}.", nameof(schema));
        return (features, label, vector.Size, (int)key.Count);
    }

    /// <summary>
    /// The rows of <paramref name="data"/> as engine rows; with <paramref name="expected"/> (the training set's
    /// feature width and class count) the columns must agree with it.
    /// </summary>
    public static (Dataset Rows, int ClassCount) Read(IDataView data, string featureColumn, string labelColumn, (int Features, int Classes)? expected, string role)
    {
        var (features, label, width, classes) = CheckSchema(data.Schema, featureColumn, labelColumn, role);
        if (expected is { } e && (e.Features != width || e.Classes != classes))
            throw new ArgumentException($"The {role} data's columns hold {width} features and {classes} classes ('{featureColumn}', '{labelColumn}') but the training data's hold {e.Features} and {e.Classes}.", nameof(data));
        var values = new List<float>();
        var labels = new List<int>();
        using (var cursor = data.GetRowCursor([features, label]))
        {
            var featureGetter = cursor.GetGetter<VBuffer<float>>(features);
            var labelGetter = cursor.GetGetter<uint>(label);
            VBuffer<float> row = default;
            uint target = 0;
            for (long r = 0; cursor.MoveNext(); r++)
            {
                featureGetter(ref row);
                labelGetter(ref target);
                if (target == 0 || target > classes)
                    throw new ArgumentException($"Column '{labelColumn}', row {r} of the {role} data: the label is a missing key (0); every row needs the key of its class.", nameof(data));
                int start = values.Count;
                foreach (float v in row.DenseValues()) values.Add(v);
                for (int j = start; j < values.Count; j++)
                    if (!float.IsFinite(values[j]))
                        throw new ArgumentException($"Column '{featureColumn}', row {r} of the {role} data: feature {j - start} is {values[j]}; every feature must be a finite number.", nameof(data));
                labels.Add((int)target - 1);
            }
        }
        if (labels.Count == 0 && expected is null)
            throw new ArgumentException($"The {role} data has no rows (columns '{featureColumn}' and '{labelColumn}'); there is nothing to train on.", nameof(data));
        return (Dataset.FromDense([.. values], width, [.. labels]), classes);
    }

    private static DataViewSchema.Column Column(DataViewSchema schema, string name, string what, string role) =>
        schema.GetColumnOrNull(name)
        ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The {role} data has no column '{name}' ({what}). Columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");
}
