namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// A model file (safetensors) is malformed or does not match the architecture it declares.
/// The message names the file and, where one is at fault, the tensor or metadata entry.
/// </summary>
public sealed class ModelFormatException : FormatException
{
    /// <summary>Creates the exception with a message that names the file and the fault.</summary>
    public ModelFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the error that revealed the fault.</summary>
    public ModelFormatException(string message, Exception innerException) : base(message, innerException) { }
}
