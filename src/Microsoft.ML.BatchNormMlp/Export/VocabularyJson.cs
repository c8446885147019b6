using System.Text.Json.Serialization;

namespace Microsoft.ML.BatchNormMlp.Export;

/// <summary>Source-generated (trimming-safe) JSON for the vocabulary's string array.</summary>
[JsonSerializable(typeof(string[]), TypeInfoPropertyName = "StringArray")]
internal sealed partial class VocabularyJson : JsonSerializerContext;
