namespace Microsoft.ML.BatchNormMlp;

/// <summary>What <see cref="Vocabulary.Encode"/> does with a symbol that is not in the vocabulary.</summary>
public enum UnknownSymbolHandling
{
    /// <summary>Throw an <see cref="ArgumentException"/> that names the symbol and its position. The default.</summary>
    Error,

    /// <summary>
    /// Map the symbol to <see cref="Vocabulary.UnknownId"/>. Only a vocabulary built with an unknown symbol reserves
    /// that id; asking for this on any other vocabulary is an error.
    /// </summary>
    MapToUnknown,
}
