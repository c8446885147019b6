using Microsoft.ML.BatchNormMlp.MlNet;
using Microsoft.ML.Data;
using static Microsoft.ML.BatchNormMlp.MlNet.SchemaShapes;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// Learns the vocabulary of a text column of names; <see cref="Fit"/> returns a <see cref="ContextWindowTransformer"/>
/// that turns each name into its context-window rows. Create it with
/// <c>mlContext.Transforms.Text.FeaturizeContextWindows(...)</c>.
/// </summary>
/// <remarks>
/// Reads: <see cref="Options.InputColumnName"/> (text, one name per row). Writes, per name of n symbols, n + 1 rows:
/// <see cref="Options.OutputColumnName"/> (a vector of <see cref="Options.ContextLength"/> keys, the previous
/// symbols, padded with the boundary symbol) and <see cref="Options.LabelColumnName"/> (a key: the symbol that
/// follows, the boundary symbol after the last). Key value i + 1 is vocabulary id i; both columns carry the
/// symbols as KeyValues annotations. The input's other columns are repeated on each of a name's rows.
/// </remarks>
public sealed class ContextWindowEstimator : IEstimator<ContextWindowTransformer>
{
    /// <summary>Options of <see cref="ContextWindowEstimator"/>; defaults in <see cref="CharacterModelDefaults"/>.</summary>
    public sealed class Options
    {
        /// <summary>The text column of names to read.</summary>
        public string InputColumnName { get; set; } = CharacterModelDefaults.NameColumnName;

        /// <summary>The context column to write: a vector of <see cref="ContextLength"/> keys.</summary>
        public string OutputColumnName { get; set; } = CharacterModelDefaults.ContextColumnName;

        /// <summary>The label column to write: the key of the symbol that follows the context.</summary>
        public string LabelColumnName { get; set; } = CharacterModelDefaults.LabelColumnName;

        /// <summary>Previous symbols per context, 1 to <see cref="CharacterModelDefaults.MaxContextLength"/>.</summary>
        public int ContextLength { get; set; } = CharacterModelDefaults.ContextLength;

        /// <summary>The boundary symbol (id 0) that pads contexts and ends names: one character the names do not use.</summary>
        public string BoundarySymbol { get; set; } = CharacterModelDefaults.BoundarySymbol;

        /// <summary>When set, reserves the last id for symbols outside the training names, printed as this symbol; <see langword="null"/> (default): such symbols are an error.</summary>
        public string? UnknownSymbol { get; set; }

        /// <summary>A copy of these options.</summary>
        public Options Clone() => (Options)MemberwiseClone();

        /// <summary>Throws when a field is out of range, naming the field.</summary>
        /// <exception cref="ArgumentException">A column name is empty, the context length is out of range or the symbols are not single characters.</exception>
        public void Validate()
        {
            Column(InputColumnName, nameof(InputColumnName));
            Column(OutputColumnName, nameof(OutputColumnName));
            Column(LabelColumnName, nameof(LabelColumnName));
            if (OutputColumnName == LabelColumnName)
                throw new ArgumentException($"{nameof(Options)}.{nameof(OutputColumnName)} and {nameof(LabelColumnName)} are both '{OutputColumnName}'; they must differ.", nameof(LabelColumnName));
            if (ContextLength is < 1 or > CharacterModelDefaults.MaxContextLength)
                throw new ArgumentOutOfRangeException(nameof(ContextLength), ContextLength, $"{nameof(Options)}.{nameof(ContextLength)} must be between 1 and {CharacterModelDefaults.MaxContextLength}; got {ContextLength}.");
            CheckSymbol(BoundarySymbol, nameof(BoundarySymbol));
            if (UnknownSymbol is not null)
            {
                CheckSymbol(UnknownSymbol, nameof(UnknownSymbol));
                if (UnknownSymbol == BoundarySymbol)
                    throw new ArgumentException($"{nameof(Options)}.{nameof(UnknownSymbol)} must differ from the boundary symbol '{BoundarySymbol}'.", nameof(UnknownSymbol));
            }
        }

        private static void CheckSymbol(string? symbol, string field)
        {
            if (symbol is null || symbol.EnumerateRunes().Count() != 1 || System.Text.Rune.IsControl(System.Text.Rune.GetRuneAt(symbol, 0)))
                throw new ArgumentException($"{nameof(Options)}.{field} must be exactly one printable character; got {(symbol is null ? "null" : $"\"{symbol}\"")}.", field);
        }

        private static void Column(string name, string field)
        {
            if (string.IsNullOrWhiteSpace(name))
                throw new ArgumentException($"{nameof(Options)}.{field} must name a column; got {(name is null ? "null" : $"'{name}'")}.", field);
        }
    }

    private readonly Options _options;

    internal ContextWindowEstimator(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        _options.Validate();
    }

    /// <summary>
    /// Reads every name of the input column and builds the vocabulary: the boundary symbol (id 0), then the names'
    /// symbols in code-point order, then the unknown symbol if one is reserved.
    /// </summary>
    /// <exception cref="ArgumentException">The column is missing or not text, the data has no rows, or a name holds the boundary or unknown symbol (the message names the row and position).</exception>
    public ContextWindowTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var column = TextColumns.Require(input.Schema, _options.InputColumnName, "the names");
        var names = TextColumns.ReadAll(input, column);
        if (names.Count == 0)
            throw new ArgumentException($"The input has no rows: the featurizer needs names in column '{column.Name}' to learn a vocabulary from.", nameof(input));
        Vocabulary vocabulary;
        try { vocabulary = Vocabulary.FromCorpus(names, _options.BoundarySymbol, _options.UnknownSymbol); }
        catch (ArgumentException ex) { throw new ArgumentException($"Column '{column.Name}': {ex.Message}", nameof(input), ex); }
        return new ContextWindowTransformer(vocabulary, _options.ContextLength, _options.InputColumnName, _options.OutputColumnName, _options.LabelColumnName);
    }

    /// <summary>The input's columns plus the context (vector of keys) and label (key) columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing.</exception>
    /// <exception cref="ArgumentException">The input column is not a text scalar.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var column = Require(inputSchema, _options.InputColumnName, "the names", "a text column");
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType is not TextDataViewType)
            throw new ArgumentException($"Column '{column.Name}' (the names) must be text (string); it is {Describe(column)}.", nameof(inputSchema));
        // The count is a placeholder: a shape knows a key column is a key, not its count before Fit.
        var key = new KeyDataViewType(typeof(uint), 2);
        return With(inputSchema,
            new Added(_options.OutputColumnName, ShapeMember.KeyVector, new VectorDataViewType(key, _options.ContextLength), VocabularyColumns.KeyValues),
            new Added(_options.LabelColumnName, ShapeMember.Key, key, VocabularyColumns.KeyValues));
    }

    internal static string Describe(SchemaShape.Column c) =>
        $"{(c.Kind == SchemaShape.Column.VectorKind.Scalar ? "" : "a vector of ")}{(c.IsKey ? "key " : "")}{c.ItemType}";
}
