namespace Microsoft.ML.BatchNormMlp.Layers;

/// <summary>
/// A named float32 tensor owned by a layer: a buffer (saved with the model, not trained, e.g. BatchNorm running
/// statistics) or, through <see cref="Parameter"/>, a trained parameter. Names follow <c>Model.TensorLayout</c>.
/// </summary>
internal class NamedTensor
{
    public NamedTensor(string name, int[] shape)
    {
        Name = name;
        Shape = shape;
        int count = 1;
        foreach (int d in shape) count *= d;
        Data = new float[count];
    }

    public string Name { get; }

    public int[] Shape { get; }

    /// <summary>Row-major values.</summary>
    public float[] Data { get; }

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
