namespace Microsoft.ML.BatchNormMlp.Layers;

/// <summary>A trained tensor: its values and the gradient the last backward pass wrote (same shape).</summary>
internal sealed class Parameter : NamedTensor
{
    public Parameter(string name, int[] shape) : base(name, shape) => Grad = new float[Data.Length];

    public float[] Grad { get; }
}
