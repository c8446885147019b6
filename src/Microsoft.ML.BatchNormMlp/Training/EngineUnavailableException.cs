namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// The requested engine or device cannot run here: no libtorch package in the application, no CUDA, a CUDA device
/// index beyond the machine's devices, or a feature the engine does not have. The message says what is missing and
/// what to add or change. An <see cref="InvalidOperationException"/>, so the public API needs no type of its own.
/// </summary>
internal sealed class EngineUnavailableException(string message, Exception? inner = null) : InvalidOperationException(message, inner);
