using System.Text.Json;
using Microsoft.ML.BatchNormMlp.IO;
using Microsoft.ML.BatchNormMlp.MlNet;
using Microsoft.ML.Data;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// A fitted context-window featurizer: a <see cref="Microsoft.ML.BatchNormMlp.Vocabulary"/>, a context length and
/// column names. <see cref="Transform"/> turns an IDataView of names into context-window rows (a name of n symbols
/// gives n + 1 rows), so it is not a row-to-row mapper; for prediction from the start of a name, map a prefix
/// column with <c>mlContext.Transforms.Text.MapPrefixToContext(featurizer)</c>.
/// </summary>
public sealed class ContextWindowTransformer : ITransformer
{
    private const string Format = "bnmlp-featurizer/1";

    internal ContextWindowTransformer(Vocabulary vocabulary, int contextLength, string inputColumnName, string outputColumnName, string labelColumnName)
    {
        Vocabulary = vocabulary;
        ContextLength = contextLength;
        InputColumnName = inputColumnName;
        OutputColumnName = outputColumnName;
        LabelColumnName = labelColumnName;
    }

    /// <summary>The symbols and their ids (key value = id + 1).</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>Previous symbols in each context.</summary>
    public int ContextLength { get; }

    /// <summary>The text column of names it reads.</summary>
    public string InputColumnName { get; }

    /// <summary>The context column (vector of <see cref="ContextLength"/> keys) it writes.</summary>
    public string OutputColumnName { get; }

    /// <summary>The label column (key of the next symbol) it writes.</summary>
    public string LabelColumnName { get; }

    /// <summary>
    /// The row-to-row mapping for prediction: a text column holding the start of a name becomes this featurizer's
    /// context column (see <c>mlContext.Transforms.Text.MapPrefixToContext</c>, its estimator form).
    /// </summary>
    /// <param name="inputColumnName">The text column of prefixes to read.</param>
    public PrefixContextTransformer ForPrefixes(string inputColumnName = CharacterModelDefaults.PrefixColumnName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
        return new PrefixContextTransformer(Vocabulary, ContextLength, inputColumnName, OutputColumnName);
    }

    /// <summary>False: each name becomes several rows.</summary>
    public bool IsRowToRowMapper => false;

    /// <summary>The input's columns, then the context and label columns.</summary>
    /// <exception cref="ArgumentException">The name column is missing or not text.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        TextColumns.Require(inputSchema, InputColumnName, "the names");
        return ContextWindowDataView.OutputSchema(inputSchema, this);
    }

    /// <summary>Not supported: the featurizer changes the number of rows. Use <c>MapPrefixToContext</c> for a row-to-row mapping.</summary>
    /// <exception cref="InvalidOperationException">Always.</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        throw new InvalidOperationException(
            "The context-window featurizer makes n + 1 rows of each name, so it cannot map row to row (prediction engines need that). "
            + "For prediction, map a prefix column: mlContext.Transforms.Text.MapPrefixToContext(featurizer).");

    /// <summary>
    /// The context-window rows of the names in the input (lazy: names are read and checked as a cursor moves).
    /// A name holding a symbol outside the vocabulary, or the boundary symbol, fails the cursor with an
    /// <see cref="ArgumentException"/> naming the column, the row, the symbol and its position.
    /// </summary>
    /// <exception cref="ArgumentException">The name column is missing or not text.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var column = TextColumns.Require(input.Schema, InputColumnName, "the names");
        return new ContextWindowDataView(input, column, this);
    }

    /// <summary>
    /// Not supported: ML.NET's model zip cannot hold a transformer from outside ML.NET (its save and load contexts are
    /// internal: dotnet/machinelearning issue 4911). Use <see cref="Save(string)"/> and <see cref="Load"/>, or export
    /// the trained model to ONNX and score it with <c>ApplyOnnxModel</c> in a pipeline ML.NET saves.
    /// </summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    void ICanSaveModel.Save(ModelSaveContext ctx) => throw MlNetPersistence.NotSupported(nameof(ContextWindowTransformer));

    /// <summary>Writes the featurizer (vocabulary, context length, column names) as a small JSON file, atomically.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = new FeaturizerFile(Format, [.. Vocabulary.Symbols], Vocabulary.UnknownId is not null, ContextLength, InputColumnName, OutputColumnName, LabelColumnName);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(file, FeaturizerFileJson.Default.FeaturizerFile));
    }

    /// <summary>Reads a featurizer written by <see cref="Save(string)"/>; it featurizes exactly as the saved one did.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is not a featurizer file; the message names the file and the fault.</exception>
    public static ContextWindowTransformer Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string text = File.ReadAllText(path);
        FeaturizerFile? file;
        try { file = JsonSerializer.Deserialize(text, FeaturizerFileJson.Default.FeaturizerFile); }
        catch (JsonException ex) { throw new ModelFormatException($"'{path}' is not a featurizer file: {ex.Message}", ex); }
        if (file is null || file.Format != Format)
            throw new ModelFormatException($"'{path}' is not a featurizer file: its format is '{file?.Format}', expected '{Format}'.");
        try
        {
            var options = new ContextWindowEstimator.Options
            {
                InputColumnName = file.InputColumn, OutputColumnName = file.OutputColumn, LabelColumnName = file.LabelColumn, ContextLength = file.ContextLength,
            };
            options.Validate();
            var vocabulary = Vocabulary.FromSymbols(file.Symbols ?? throw new ArgumentException("it has no symbols."), file.LastSymbolIsUnknown);
            return new ContextWindowTransformer(vocabulary, file.ContextLength, file.InputColumn, file.OutputColumn, file.LabelColumn);
        }
        catch (ArgumentException ex) { throw new ModelFormatException($"'{path}' is not a valid featurizer file: {ex.Message}", ex); }
    }
}

/// <summary>The featurizer file's content.</summary>
internal sealed record FeaturizerFile(string Format, string[] Symbols, bool LastSymbolIsUnknown, int ContextLength, string InputColumn, string OutputColumn, string LabelColumn);

[System.Text.Json.Serialization.JsonSerializable(typeof(FeaturizerFile))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
internal sealed partial class FeaturizerFileJson : System.Text.Json.Serialization.JsonSerializerContext;
