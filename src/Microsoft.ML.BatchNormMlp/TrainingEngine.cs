namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// What computes a training step. Both engines train the same architectures from the same configuration, start from
/// the same initialized weights, draw the same minibatches and write the same tensors (state-dictionary names), so
/// a model or checkpoint written by either is saved, folded, exported, evaluated and resumed by the same code.
/// </summary>
public enum TrainingEngine
{
    /// <summary>
    /// <see cref="Managed"/> on the CPU and <see cref="TorchSharp"/> for a CUDA device: on CPU the managed engine is
    /// several times faster for these small models.
    /// </summary>
    Auto,

    /// <summary>The library's own managed SIMD engine: CPU only, no native dependency, allocation-free steps.</summary>
    Managed,

    /// <summary>
    /// libtorch through TorchSharp (<c>nn.Linear</c>, <c>nn.BatchNorm1d</c>, <c>optim.SGD</c>, <c>optim.Adam</c>), on
    /// the CPU or a CUDA device. The application must reference a libtorch package: TorchSharp-cpu, or
    /// TorchSharp-cuda-linux / TorchSharp-cuda-windows for GPUs.
    /// </summary>
    TorchSharp,
}
