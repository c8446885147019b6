namespace Microsoft.ML.BatchNormMlp.Model;

/// <summary>One batch of input rows: symbol ids [B, ctx] or dense features [B, F].</summary>
internal readonly ref struct NetworkInput
{
    private NetworkInput(ReadOnlySpan<int> ids, ReadOnlySpan<float> features, bool dense)
    {
        IdValues = ids; FeatureValues = features; IsDense = dense;
    }

    public ReadOnlySpan<int> IdValues { get; }

    public ReadOnlySpan<float> FeatureValues { get; }

    public bool IsDense { get; }

    public static NetworkInput Ids(ReadOnlySpan<int> ids) => new(ids, default, false);

    public static NetworkInput Dense(ReadOnlySpan<float> features) => new(default, features, true);
}
