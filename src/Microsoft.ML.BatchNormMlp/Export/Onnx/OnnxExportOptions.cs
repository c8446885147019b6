namespace Microsoft.ML.BatchNormMlp.Export.Onnx;

/// <summary>
/// Variants of the exported graph for hosts other than a plain ONNX Runtime caller, chiefly ML.NET's
/// <c>ApplyOnnxModel</c>. The defaults give the plain graph, byte for byte the one written without options.
/// </summary>
internal sealed record OnnxExportOptions
{
    /// <summary>The plain graph: <c>ids</c> holds vocabulary ids, the only output is <c>logits</c>.</summary>
    public static OnnxExportOptions Default { get; } = new();

    /// <summary>
    /// The <c>ids</c> input is uint32 and holds ML.NET key values (vocabulary id + 1; 0 means missing) rather than
    /// vocabulary ids, and the graph subtracts 1 before the embedding lookup. uint32 because ML.NET hands a key column
    /// to ONNX Runtime as its raw uint32 values when the model's input is uint32, and has no conversion from a key to a
    /// signed integer (<c>ConvertType</c> of a key gives another key). A missing key (0) makes ONNX Runtime fail the
    /// run (index out of range) rather than read some symbol. Symbol-input models only.
    /// </summary>
    public bool KeyInput { get; init; }

    /// <summary>
    /// Adds a float output <c>probabilities</c> [N, OutputWidth], the softmax of <c>logits</c> over the symbols, so that
    /// a host gets scores without a softmax of its own (ML.NET has no softmax transform).
    /// </summary>
    public bool Probabilities { get; init; }
}
