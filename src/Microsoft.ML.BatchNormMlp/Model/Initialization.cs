using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Model;

/// <summary>How hidden (and, for some schemes, output) Linear layers are initialized.</summary>
internal enum InitScheme
{
    /// <summary>nn.Linear's default: weight and bias U(-1/√fan_in, 1/√fan_in) (kaiming_uniform_ with a = √5).</summary>
    PyTorchDefault,
    /// <summary>kaiming_normal_(fan_in) on hidden weights: N(0, gain/√fan_in), gain 5/3 for tanh, √2 for ReLU; biases and output layer as PyTorchDefault (torch_ref's mlp3).</summary>
    KaimingNormal,
    /// <summary>He uniform on every Linear, output included: U(±√(6/fan_in)) weights, zero biases (the fourth seed's weights_init).</summary>
    HeUniform,
    /// <summary>Every weight and bias N(0, 1): the seeds' naive start that saturates tanh.</summary>
    NaiveNormal,
}

/// <summary>An initialization: the scheme, then the output layer's weight scaled and optionally its bias zeroed.</summary>
internal sealed record InitOptions(InitScheme Scheme = InitScheme.PyTorchDefault, float OutputWeightScale = 1f, bool ZeroOutputBias = false);

/// <summary>Fills a network's parameters from <see cref="Rng"/>: embedding, hidden layers in order (weight, then bias), output.</summary>
internal static class Initialization
{
    public static void Initialize(MlpNetwork network, InitOptions options, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(network); ArgumentNullException.ThrowIfNull(options); ArgumentNullException.ThrowIfNull(rng);
        if (network.Embedding is { } e) Normal(e.Weight.Data, 1f, rng);   // nn.Embedding: N(0, 1)
        float gain = network.Config.Activation == Activation.Relu ? MathF.Sqrt(2) : 5f / 3f;
        for (int i = 0; i < network.Hidden.Length; i++)
        {
            var lin = network.Hidden[i];
            switch (options.Scheme)
            {
                case InitScheme.PyTorchDefault: PyTorchDefault(lin, rng); break;
                case InitScheme.KaimingNormal:
                    Normal(lin.Weight.Data, gain / MathF.Sqrt(lin.Inputs), rng);
                    if (lin.Bias is { } b) Uniform(b.Data, 1 / MathF.Sqrt(lin.Inputs), rng);
                    break;
                case InitScheme.HeUniform: HeUniform(lin, rng); break;
                case InitScheme.NaiveNormal: Naive(lin, rng); break;
                default: throw new ArgumentOutOfRangeException(nameof(options), options.Scheme, "Unknown initialization scheme.");
            }
            network.Norms[i]?.Reset();
        }
        switch (options.Scheme)
        {
            case InitScheme.HeUniform: HeUniform(network.Output, rng); break;
            case InitScheme.NaiveNormal: Naive(network.Output, rng); break;
            default: PyTorchDefault(network.Output, rng); break;
        }
        network.OutputNorm?.Reset();
        if (options.OutputWeightScale != 1f)
            foreach (ref float w in network.Output.Weight.Data.AsSpan()) w *= options.OutputWeightScale;
        if (options.ZeroOutputBias && network.Output.Bias is { } ob) Array.Clear(ob.Data);
    }

    private static void PyTorchDefault(Linear lin, Rng rng)
    {
        float bound = 1 / MathF.Sqrt(lin.Inputs);
        Uniform(lin.Weight.Data, bound, rng);
        if (lin.Bias is { } b) Uniform(b.Data, bound, rng);
    }

    private static void HeUniform(Linear lin, Rng rng)
    {
        Uniform(lin.Weight.Data, MathF.Sqrt(6f / lin.Inputs), rng);
        if (lin.Bias is { } b) Array.Clear(b.Data);
    }

    private static void Naive(Linear lin, Rng rng)
    {
        Normal(lin.Weight.Data, 1f, rng);
        if (lin.Bias is { } b) Normal(b.Data, 1f, rng);
    }

    private static void Uniform(float[] data, float bound, Rng rng)
    {
        for (int i = 0; i < data.Length; i++) data[i] = (2 * rng.NextFloat() - 1) * bound;
    }

    private static void Normal(float[] data, float std, Rng rng)
    {
        for (int i = 0; i < data.Length; i++) data[i] = rng.NextGaussian() * std;
    }
}
