using System.Runtime.CompilerServices;
using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// The one place that picks the engine of a run (<see cref="TrainingOptions.Engine"/> and
/// <see cref="TrainingOptions.Device"/>): <see cref="Trainer"/> asks it, and the CLI and the public trainer go
/// through <see cref="Trainer"/>. <see cref="TrainingEngine.Auto"/> is the managed engine on the CPU and TorchSharp on
/// a CUDA device. The TorchSharp engine is reached only through <see cref="CreateTorchSharp"/>, which is never inlined,
/// so that a process that trains with the managed engine never loads TorchSharp.dll, let alone libtorch.
/// </summary>
internal static class TrainingEngines
{
    /// <summary>The engine <paramref name="options"/> ask for, resolved (never <see cref="TrainingEngine.Auto"/>).</summary>
    public static TrainingEngine Resolve(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var device = TrainingDevice.Parse(options.Device, nameof(options.Device));
        return options.Engine switch
        {
            TrainingEngine.Auto => device.IsCuda ? TrainingEngine.TorchSharp : TrainingEngine.Managed,
            TrainingEngine.Managed when device.IsCuda => throw new ArgumentException(
                $"The managed engine runs on the CPU only; device \"{options.Device}\" needs the TorchSharp engine.", nameof(options)),
            TrainingEngine.Managed or TrainingEngine.TorchSharp => options.Engine,
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Engine, "Unknown engine."),
        };
    }

    /// <summary>
    /// The engine for <paramref name="network"/> (initialized: the TorchSharp engine starts from its tensors) and
    /// <paramref name="options"/>' optimizer, device and thread count. A missing libtorch or CUDA is an
    /// <see cref="EngineUnavailableException"/> naming what to add.
    /// </summary>
    public static ITrainingEngine Create(MlpNetwork network, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(network); ArgumentNullException.ThrowIfNull(options);
        return Resolve(options) == TrainingEngine.TorchSharp ? CreateTorchSharp(network, options) : new ManagedEngine(network, options);
    }

    // Kept out of line: the JIT loads the types a method body touches when it compiles that method, so TorchSharp's
    // types must only appear in methods the managed path never compiles.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ITrainingEngine CreateTorchSharp(MlpNetwork network, TrainingOptions options) =>
        new Engines.TorchSharp.TorchSharpEngine(network, options);
}
