using BenchmarkDotNet.Attributes;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Benchmarks;

/// <summary>
/// The three GEMM orientations on every preset layer shape, 1 and 2 threads, with allocation diagnostics.
/// Run: <c>dotnet run -c Release --project benchmarks/Microsoft.ML.BatchNormMlp.Benchmarks -- --filter '*GemmBenchmarks*'</c>
/// (the quick table without BenchmarkDotNet: <c>-- gemm</c>).
/// </summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];
    private int _m, _n, _k;

    /// <summary>Layer shapes as "model batch in out".</summary>
    public static IEnumerable<string> Layers => GemmShapes.Layers.Select(l => $"{l.Model} {l.Batch} {l.In} {l.Out}");

    [ParamsSource(nameof(Layers))]
    public string Layer { get; set; } = "";

    [Params("NT", "NN", "TN")]
    public string Orientation { get; set; } = "NT";

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var parts = Layer.Split(' ');
        var layer = new GemmShapes.Layer(parts[0], int.Parse(parts[1]), int.Parse(parts[2]), int.Parse(parts[3]));
        (_m, _n, _k) = GemmShapes.Dims(Orientation, layer);
        var rng = new Rng(1);
        _a = Fill(rng, _m * _k); _b = Fill(rng, _n * _k); _c = new float[_m * _n];
    }

    [Benchmark]
    public void Multiply()
    {
        switch (Orientation)
        {
            case "NT": Gemm.MultiplyNT(_a, _b, _c, _m, _n, _k, false, Threads); break;
            case "NN": Gemm.MultiplyNN(_a, _b, _c, _m, _n, _k, false, Threads); break;
            default: Gemm.MultiplyTN(_a, _b, _c, _m, _n, _k, true, Threads); break;
        }
    }

    private static float[] Fill(Rng rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = rng.NextFloat() * 2 - 1;
        return x;
    }
}
