using Microsoft.ML.BatchNormMlp.MlNet;
using Microsoft.ML.Data;
using static Microsoft.ML.BatchNormMlp.MlNet.SchemaShapes;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// Maps a text column holding the start of a name to the context of the symbol that follows, row to row, with a
/// fitted featurizer's vocabulary and context length. Nothing to learn: <see cref="Fit"/> returns the
/// <see cref="PrefixContextTransformer"/>. Create it with <c>mlContext.Transforms.Text.MapPrefixToContext(...)</c>.
/// </summary>
public sealed class PrefixContextEstimator : IEstimator<PrefixContextTransformer>
{
    private readonly PrefixContextTransformer _transformer;

    internal PrefixContextEstimator(PrefixContextTransformer transformer) => _transformer = transformer;

    /// <summary>Returns the transformer (it needs no training); checks that the input has the prefix column.</summary>
    /// <exception cref="ArgumentException">The prefix column is missing or not text.</exception>
    public PrefixContextTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        _transformer.GetOutputSchema(input.Schema);
        return _transformer;
    }

    /// <summary>The input's columns plus the context column (a vector of keys).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The prefix column is missing.</exception>
    /// <exception cref="ArgumentException">The prefix column is not a text scalar.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var column = Require(inputSchema, _transformer.InputColumnName, "the prefixes", "a text column");
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType is not TextDataViewType)
            throw new ArgumentException($"Column '{column.Name}' (the prefixes) must be text (string); it is {ContextWindowEstimator.Describe(column)}.", nameof(inputSchema));
        var key = VocabularyColumns.KeyType(_transformer.Vocabulary);
        return With(inputSchema, new Added(_transformer.OutputColumnName, ShapeMember.KeyVector, new VectorDataViewType(key, _transformer.ContextLength), VocabularyColumns.KeyValues));
    }
}

/// <summary>
/// Row to row: a text column with the start of a name ("" for the first symbol) becomes the context vector of
/// keys that the trainer's model reads, the last <see cref="ContextLength"/> symbols padded with the boundary
/// symbol, exactly as the featurizer makes them. So a prediction engine over
/// <c>MapPrefixToContext(featurizer).Append(model)</c> answers "which symbol follows 'emm'".
/// </summary>
public sealed class PrefixContextTransformer : ITransformer
{
    internal PrefixContextTransformer(Vocabulary vocabulary, int contextLength, string inputColumnName, string outputColumnName)
    {
        Vocabulary = vocabulary;
        ContextLength = contextLength;
        InputColumnName = inputColumnName;
        OutputColumnName = outputColumnName;
    }

    /// <summary>The symbols and their ids (key value = id + 1).</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>Previous symbols in each context.</summary>
    public int ContextLength { get; }

    /// <summary>The text column of prefixes it reads.</summary>
    public string InputColumnName { get; }

    /// <summary>The context column it writes.</summary>
    public string OutputColumnName { get; }

    /// <summary>True.</summary>
    public bool IsRowToRowMapper => true;

    /// <summary>The input's columns plus the context column.</summary>
    /// <exception cref="ArgumentException">The prefix column is missing or not text.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Map(inputSchema).OutputSchema;

    /// <summary>The row-to-row mapper prediction engines use.</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new MappedRowToRowMapper(Map(inputSchema));

    /// <summary>The input with the context column added (lazy). A prefix with a symbol outside the vocabulary fails the cursor with an <see cref="ArgumentException"/> naming the row and position.</summary>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new MappedDataView(input, Map(input.Schema));
    }

    /// <summary>Not supported (see <see cref="ContextWindowTransformer"/>'s remarks on ML.NET model zips).</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    void ICanSaveModel.Save(ModelSaveContext ctx) => throw MlNetPersistence.NotSupported(nameof(PrefixContextTransformer));

    private PrefixMapping Map(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return new PrefixMapping(inputSchema, TextColumns.Require(inputSchema, InputColumnName, "the prefixes"), this);
    }

    private sealed class PrefixMapping : AddedColumns
    {
        private readonly DataViewSchema.Column _prefix;
        private readonly PrefixContextTransformer _t;

        public PrefixMapping(DataViewSchema input, DataViewSchema.Column prefix, PrefixContextTransformer t)
            : base(input, [new AddedColumn(t.OutputColumnName, new VectorDataViewType(VocabularyColumns.KeyType(t.Vocabulary), t.ContextLength), VocabularyColumns.KeyAnnotations(t.Vocabulary))])
        {
            _prefix = prefix;
            _t = t;
        }

        public override IEnumerable<DataViewSchema.Column> Dependencies => [_prefix];

        public override Delegate?[] MakeGetters(DataViewRow input, bool[] active)
        {
            if (!active[0]) return [null];
            var prefixGetter = input.GetGetter<ReadOnlyMemory<char>>(_prefix);
            var ids = new int[_t.ContextLength];
            var scratch = new int[64];
            ReadOnlyMemory<char> prefix = default;
            ValueGetter<VBuffer<uint>> getter = (ref VBuffer<uint> value) =>
            {
                prefixGetter(ref prefix);
                SymbolEncoding.LastContext(prefix.Span, _t.Vocabulary, ids, ref scratch, _prefix.Name, input.Position);
                var editor = VBufferEditor.Create(ref value, ids.Length);
                for (int i = 0; i < ids.Length; i++) editor.Values[i] = (uint)ids[i] + 1;
                value = editor.Commit();
            };
            return [getter];
        }
    }
}
