using Microsoft.ML.BatchNormMlp.MlNet;
using Microsoft.ML.Data;
using static Microsoft.ML.BatchNormMlp.MlNet.SchemaShapes;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// A trained BatchNorm MLP in an ML.NET pipeline: reads the context column (a vector of keys) and writes ML.NET's
/// multiclass columns, <c>Score</c> (the probability of each symbol id: <c>Score[i]</c> is symbol i's) and
/// <c>PredictedLabel</c> (the key of the most probable symbol). <see cref="Model"/> is the trained
/// <see cref="CharacterModel"/> (predict, score and sample names, evaluate, save, ONNX); <see cref="Fold"/> folds
/// its BatchNorm layers away and <see cref="ExportOnnx"/> writes the folded weights as ONNX in one call.
/// </summary>
public sealed class BatchNormMlpTransformer : ITransformer
{
    internal BatchNormMlpTransformer(CharacterModel model, string featureColumnName,
        string scoreColumnName = CharacterModelDefaults.ScoreColumnName, string predictedLabelColumnName = CharacterModelDefaults.PredictedLabelColumnName)
    {
        Model = model;
        FeatureColumnName = featureColumnName;
        ScoreColumnName = scoreColumnName;
        PredictedLabelColumnName = predictedLabelColumnName;
    }

    /// <summary>The trained model.</summary>
    public CharacterModel Model { get; }

    /// <summary>The context column it reads.</summary>
    public string FeatureColumnName { get; }

    /// <summary>The probability vector it writes (<c>Score</c>).</summary>
    public string ScoreColumnName { get; }

    /// <summary>The predicted key it writes (<c>PredictedLabel</c>).</summary>
    public string PredictedLabelColumnName { get; }

    /// <summary>True: every row is scored on its own.</summary>
    public bool IsRowToRowMapper => true;

    /// <summary>The input's columns, then <c>Score</c> and <c>PredictedLabel</c>.</summary>
    /// <exception cref="ArgumentException">The context column is missing, of the wrong type, or of another vocabulary or context length than the model's.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Map(inputSchema).OutputSchema;

    /// <summary>The row-to-row mapper prediction engines use.</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new MappedRowToRowMapper(Map(inputSchema));

    /// <summary>The input with <c>Score</c> and <c>PredictedLabel</c> added (lazy: rows are scored as a cursor reads them).</summary>
    /// <exception cref="ArgumentException">The context column is missing, of the wrong type, or of another vocabulary or context length than the model's.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new MappedDataView(input, Map(input.Schema));
    }

    /// <summary>This transformer with the model's BatchNorm layers folded into the Linear layers before them (itself if already folded).</summary>
    /// <exception cref="InvalidOperationException">The model has no BatchNorm layer.</exception>
    public BatchNormMlpTransformer Fold() => Model is BatchNormCharacterModel bn
        ? new BatchNormMlpTransformer(bn.Fold(), FeatureColumnName, ScoreColumnName, PredictedLabelColumnName)
        : this;

    /// <summary>
    /// Writes the model as ONNX for an ML.NET scoring pipeline, atomically, with its BatchNorm layers folded into the
    /// Linear layers first (when it has any): input uint32 <c>ids</c> [N, context length] holding ML.NET key values
    /// (vocabulary id + 1: the context column's raw keys, e.g. after <c>ConvertType("ids", "Context", DataKind.UInt32)</c>),
    /// outputs float <c>logits</c> and <c>probabilities</c> [N, vocabulary] (the softmax, equal to <c>Score</c>).
    /// Apply it with <c>mlContext.Transforms.ApplyOnnxModel</c>; <c>CharacterModel.ExportOnnx</c> writes the plain graph
    /// (int64 vocabulary ids, logits only) for other hosts.
    /// </summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void ExportOnnx(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var model = Model is BatchNormCharacterModel bn && (bn.Configuration.HiddenBatchNorm || bn.Configuration.OutputBatchNorm) ? bn.Fold() : Model;
        Export.Onnx.OnnxExport.Save(path, model.ToModelState(), new Export.Onnx.OnnxExportOptions { KeyInput = true, Probabilities = true });
    }

    /// <summary>Writes the model file (see <see cref="CharacterModel.Save"/>): the vocabulary and context length travel with it.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void Save(string path) => Model.Save(path);

    /// <summary>Reads a model file into a transformer that reads <paramref name="featureColumnName"/>; predictions are bit-identical to the saved model's.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is malformed; the message names the file and the fault.</exception>
    public static BatchNormMlpTransformer Load(string path, string featureColumnName = CharacterModelDefaults.ContextColumnName) =>
        new(CharacterModel.Load(path), featureColumnName);

    /// <summary>Not supported (ML.NET's model zip holds only ML.NET's own transformers); see <see cref="ExportOnnx"/> for a pipeline ML.NET saves.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    void ICanSaveModel.Save(ModelSaveContext ctx) => throw MlNetPersistence.NotSupported(nameof(BatchNormMlpTransformer));

    internal static SchemaShape OutputShape(SchemaShape input, string featureColumnName)
    {
        // Placeholder count: a shape records that PredictedLabel is a key, not its count.
        var key = new KeyDataViewType(typeof(uint), 2);
        return With(input,
            new Added(CharacterModelDefaults.ScoreColumnName, ShapeMember.Vector, new VectorDataViewType(NumberDataViewType.Single, 2), VocabularyColumns.SlotNames),
            new Added(CharacterModelDefaults.PredictedLabelColumnName, ShapeMember.Key, key, VocabularyColumns.KeyValues));
    }

    private ScoreMapping Map(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var column = inputSchema.GetColumnOrNull(FeatureColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input has no column '{FeatureColumnName}' (the context the model reads). Columns: {string.Join(", ", inputSchema.Where(c => !c.IsHidden).Select(c => c.Name))}.");
        var (vocabulary, n) = KeyRows.ContextColumn(column, "input");
        if (n != Model.ContextLength)
            throw new ArgumentException($"Column '{FeatureColumnName}' holds contexts of {n} symbols but the model reads {Model.ContextLength}.", nameof(inputSchema));
        if (vocabulary is null || !VocabularyColumns.Same(vocabulary, Model.Vocabulary))
            throw new ArgumentException($"Column '{FeatureColumnName}' was made with {(vocabulary is null ? "no vocabulary annotation" : $"another vocabulary ({vocabulary})")} than the model's ({Model.Vocabulary}); featurize with the featurizer the model was trained on.", nameof(inputSchema));
        return new ScoreMapping(inputSchema, column, this);
    }

    /// <summary>Score and PredictedLabel from one row's context; one forward pass serves both.</summary>
    private sealed class ScoreMapping : AddedColumns
    {
        private readonly DataViewSchema.Column _context;
        private readonly CharacterModel _model;

        public ScoreMapping(DataViewSchema input, DataViewSchema.Column context, BatchNormMlpTransformer t)
            : base(input, [
                new AddedColumn(t.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, t.Model.Vocabulary.Count), VocabularyColumns.SlotNameAnnotations(t.Model.Vocabulary)),
                new AddedColumn(t.PredictedLabelColumnName, VocabularyColumns.KeyType(t.Model.Vocabulary), VocabularyColumns.KeyAnnotations(t.Model.Vocabulary))])
        {
            _context = context;
            _model = t.Model;
        }

        public override IEnumerable<DataViewSchema.Column> Dependencies => [_context];

        // One row at a time: prediction engines, parallel cursors, shuffled cursors.
        public override Delegate?[] MakeGetters(DataViewRow input, bool[] active)
        {
            if (!active[0] && !active[1]) return [null, null];
            var contextGetter = input.GetGetter<VBuffer<uint>>(_context);
            var block = new ScoreBlock(_model, 1);
            long scored = -1;
            void Score()
            {
                if (scored == input.Position) return;
                block.Read(contextGetter, 0, _context.Name, input.Position);
                block.Compute(1);
                scored = input.Position;
            }
            return Getters(block, Score, () => 0, active);
        }

        // A cursor from the start of the source: a second cursor reads the contexts of the next rows ahead, so that
        // the network scores blocks of rows at once (as the engine's own evaluation does) instead of one row per call.
        public override Delegate?[] MakeCursorGetters(DataViewRowCursor input, IDataView source, bool[] active, bool shuffled, out IDisposable? resource)
        {
            resource = null;
            if ((!active[0] && !active[1]) || shuffled) return MakeGetters(input, active);
            var ahead = source.GetRowCursor([_context]);
            resource = ahead;
            var contextGetter = ahead.GetGetter<VBuffer<uint>>(_context);
            var block = new ScoreBlock(_model, BlockRows);
            long start = 0, count = 0;
            void Score()
            {
                long p = input.Position;
                if (p >= start && p < start + count) return;
                while (ahead.Position < p)
                    if (!ahead.MoveNext()) break;
                if (ahead.Position != p)
                    throw new InvalidOperationException($"The source of column '{_context.Name}' gave a second cursor other rows than the first (row {ahead.Position} for {p}); it must give the same rows in the same order.");
                int rows = 0;
                while (true)
                {
                    block.Read(contextGetter, rows++, _context.Name, ahead.Position);
                    if (rows == BlockRows || !ahead.MoveNext()) break;
                }
                block.Compute(rows);
                start = p;
                count = rows;
            }
            return Getters(block, Score, () => (int)(input.Position - start), active);
        }

        private const int BlockRows = 256;

        private static Delegate?[] Getters(ScoreBlock block, Action score, Func<int> row, bool[] active)
        {
            int k = block.Symbols;
            ValueGetter<VBuffer<float>> scores = (ref VBuffer<float> value) =>
            {
                score();
                var editor = VBufferEditor.Create(ref value, k);
                block.Probabilities.AsSpan(row() * k, k).CopyTo(editor.Values);
                value = editor.Commit();
            };
            ValueGetter<uint> predicted = (ref uint value) => { score(); value = (uint)block.Best[row()] + 1; };
            return [active[0] ? scores : null, active[1] ? predicted : null];
        }
    }

    /// <summary>The contexts, probabilities and most probable symbols of a block of rows.</summary>
    private sealed class ScoreBlock(CharacterModel model, int capacity)
    {
        private readonly int[] _ids = new int[capacity * model.ContextLength];
        private VBuffer<uint> _keys;

        public int Symbols { get; } = model.Vocabulary.Count;

        public float[] Probabilities { get; } = new float[capacity * model.Vocabulary.Count];

        public int[] Best { get; } = new int[capacity];

        public void Read(ValueGetter<VBuffer<uint>> getter, int slot, string column, long position)
        {
            getter(ref _keys);
            int n = model.ContextLength;
            if (KeyRows.ToIds(_keys, _ids.AsSpan(slot * n, n), Symbols) is int j and >= 0)
                throw new ArgumentException($"Column '{column}', row {position}: context position {j} is a missing key (0).");
        }

        public void Compute(int rows)
        {
            int k = Symbols;
            model.ComputeLogits(_ids.AsSpan(0, rows * model.ContextLength), rows, Probabilities.AsSpan(0, rows * k));
            for (int r = 0; r < rows; r++)
            {
                var p = Probabilities.AsSpan(r * k, k);
                CharacterModel.Softmax(p, 1f);
                int best = 0;
                for (int i = 1; i < k; i++) if (p[i] > p[best]) best = i;
                Best[r] = best;
            }
        }
    }
}
