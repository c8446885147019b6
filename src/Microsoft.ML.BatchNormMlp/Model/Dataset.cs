namespace Microsoft.ML.BatchNormMlp.Model;

/// <summary>
/// Labelled rows the engine trains and evaluates on: either symbol contexts ids [N, ctx] or dense features
/// [N, F], with one label per row. Row-major arrays, not copied.
/// </summary>
internal sealed class Dataset
{
    private Dataset(int count, int rowWidth, int[]? contexts, float[]? features, int[] labels)
    {
        Count = count; RowWidth = rowWidth; Contexts = contexts; Features = features; Labels = labels;
    }

    public int Count { get; }

    /// <summary>Ids per row (context length) or floats per row (feature width).</summary>
    public int RowWidth { get; }

    public int[]? Contexts { get; }

    public float[]? Features { get; }

    public int[] Labels { get; }

    public bool IsDense => Features is not null;

    public static Dataset FromContexts(int[] contexts, int contextLength, int[] targets)
    {
        ArgumentNullException.ThrowIfNull(contexts); ArgumentNullException.ThrowIfNull(targets);
        if (contextLength <= 0 || contexts.Length != targets.Length * contextLength)
            throw new ArgumentException($"{contexts.Length} context ids do not make {targets.Length} rows of context length {contextLength}.");
        return new(targets.Length, contextLength, contexts, null, targets);
    }

    public static Dataset FromDense(float[] features, int width, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(features); ArgumentNullException.ThrowIfNull(labels);
        if (width <= 0 || features.Length != labels.Length * width)
            throw new ArgumentException($"{features.Length} features do not make {labels.Length} rows of width {width}.");
        return new(labels.Length, width, null, features, labels);
    }

    /// <summary>Rows [start, start + count) as a network input.</summary>
    public NetworkInput Rows(int start, int count) => IsDense
        ? NetworkInput.Dense(Features.AsSpan(start * RowWidth, count * RowWidth))
        : NetworkInput.Ids(Contexts.AsSpan(start * RowWidth, count * RowWidth));
}
