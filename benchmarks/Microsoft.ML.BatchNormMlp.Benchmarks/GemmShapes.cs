namespace Microsoft.ML.BatchNormMlp.Benchmarks;

/// <summary>The Linear layers of the presets, as (batch, in, out); each gives one product per orientation.</summary>
internal static class GemmShapes
{
    public readonly record struct Layer(string Model, int Batch, int In, int Out)
    {
        public override string ToString() => $"{Model} {Batch}x{In}->{Out}";
    }

    public static readonly Layer[] Layers =
    [
        new("bn1", 32, 30, 200), new("bn1", 32, 200, 27),
        new("mlp3", 32, 48, 256), new("mlp3", 32, 256, 512), new("mlp3", 32, 512, 1024),
        new("mlp3", 32, 1024, 512), new("mlp3", 32, 512, 256), new("mlp3", 32, 256, 27),
        new("deep50", 32, 256, 256),
        new("mnist1d", 200, 40, 100), new("mnist1d", 200, 100, 100), new("mnist1d", 200, 100, 10),
        new("eval", 4096, 256, 256),
    ];

    /// <summary>(m, n, k) of the product an orientation computes for a layer.</summary>
    public static (int M, int N, int K) Dims(string orientation, Layer l) => orientation switch
    {
        "NT" => (l.Batch, l.Out, l.In),   // Y[B,out] = X[B,in]·W[out,in]ᵀ
        "NN" => (l.Batch, l.In, l.Out),   // dX[B,in] = dY[B,out]·W[out,in]
        _ => (l.Out, l.In, l.Batch),      // dW[out,in] += dY[B,out]ᵀ·X[B,in]
    };
}
