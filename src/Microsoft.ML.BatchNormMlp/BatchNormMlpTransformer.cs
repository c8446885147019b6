using Microsoft.ML.BatchNormMlp.MlNet;
using Microsoft.ML.Data;
using static Microsoft.ML.BatchNormMlp.MlNet.SchemaShapes;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// A trained BatchNorm MLP in an ML.NET pipeline: reads the feature column and writes ML.NET's multiclass columns,
/// <c>Score</c> (the probability of each symbol id or class: <c>Score[i]</c> is id i's) and <c>PredictedLabel</c>
/// (the key of the most probable one). A character transformer reads the context column (a vector of keys) and its
/// <see cref="Model"/> is the trained <see cref="CharacterModel"/> (predict, score and sample names, evaluate, save,
/// ONNX); one trained on dense feature vectors (<see cref="IsDenseInput"/>, e.g. MNIST-1D) reads a known-size vector
/// of Single. Either kind: <see cref="Training"/> (what the run measured), <see cref="Configuration"/>,
/// <see cref="ParameterCount"/>, <see cref="Fold"/> (BatchNorm folded away), <see cref="Save"/>, <see cref="Load"/>
/// and <see cref="ExportOnnx"/>. Immutable: one instance scores from many threads.
/// </summary>
public sealed class BatchNormMlpTransformer : ITransformer
{
    private readonly CharacterModel? _model;
    private readonly DenseClassifier? _dense;

    internal BatchNormMlpTransformer(CharacterModel model, string featureColumnName, TrainingSummary? training = null,
        string scoreColumnName = CharacterModelDefaults.ScoreColumnName, string predictedLabelColumnName = CharacterModelDefaults.PredictedLabelColumnName)
        : this(featureColumnName, training, scoreColumnName, predictedLabelColumnName)
    {
        _model = model;
    }

    internal BatchNormMlpTransformer(DenseClassifier dense, string featureColumnName, TrainingSummary? training = null,
        string scoreColumnName = CharacterModelDefaults.ScoreColumnName, string predictedLabelColumnName = CharacterModelDefaults.PredictedLabelColumnName)
        : this(featureColumnName, training, scoreColumnName, predictedLabelColumnName)
    {
        _dense = dense;
    }

    private BatchNormMlpTransformer(string featureColumnName, TrainingSummary? training, string scoreColumnName, string predictedLabelColumnName)
    {
        FeatureColumnName = featureColumnName;
        Training = training;
        ScoreColumnName = scoreColumnName;
        PredictedLabelColumnName = predictedLabelColumnName;
    }

    /// <summary>The trained character model.</summary>
    /// <exception cref="InvalidOperationException">The transformer was trained on dense feature vectors (<see cref="IsDenseInput"/>): it has no vocabulary, so no character model.</exception>
    public CharacterModel Model => _model ?? throw new InvalidOperationException(
        $"This transformer classifies dense feature vectors (column '{FeatureColumnName}', {_dense!.FeatureCount} features, {_dense.ClassCount} classes); it has no character model. "
        + $"Use {nameof(Transform)} for scores, {nameof(Training)}, {nameof(Configuration)} and {nameof(ParameterCount)} for what it is.");

    /// <summary>Whether the transformer reads dense feature vectors (a known-size vector of Single) rather than contexts of keys; then it has no <see cref="Model"/>.</summary>
    public bool IsDenseInput => _dense is not null;

    /// <summary>The architecture, as trained (a folded transformer keeps its trained configuration).</summary>
    public MlpConfig Configuration => _model?.Configuration ?? _dense!.Configuration;

    /// <summary>The trained weights (see <see cref="CharacterModel.ParameterCount"/>; folding shrinks them).</summary>
    public int ParameterCount => _model?.ParameterCount ?? _dense!.ParameterCount;

    /// <summary>Whether the BatchNorm layers are folded away (<see cref="Fold"/>).</summary>
    public bool IsFolded => _model?.IsFolded ?? _dense!.IsFolded;

    /// <summary>
    /// What the training run measured (its loss, validation loss, throughput and, when asked, its
    /// <see cref="TrainingSummary.Diagnostics"/>), when this transformer was fitted in this process (kept by
    /// <see cref="Fold"/>); <see langword="null"/> after <see cref="Load"/>.
    /// </summary>
    public TrainingSummary? Training { get; }

    /// <summary>The feature column it reads: the context (a vector of keys) or the dense features.</summary>
    public string FeatureColumnName { get; }

    /// <summary>The probability vector it writes (<c>Score</c>).</summary>
    public string ScoreColumnName { get; }

    /// <summary>The predicted key it writes (<c>PredictedLabel</c>).</summary>
    public string PredictedLabelColumnName { get; }

    /// <summary>True: every row is scored on its own.</summary>
    public bool IsRowToRowMapper => true;

    /// <summary>The input's columns, then <c>Score</c> and <c>PredictedLabel</c>.</summary>
    /// <exception cref="ArgumentException">The feature column is missing, of the wrong type, or of another vocabulary or context length (or width) than the model's.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Map(inputSchema).OutputSchema;

    /// <summary>The row-to-row mapper prediction engines use.</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new MappedRowToRowMapper(Map(inputSchema));

    /// <summary>The input with <c>Score</c> and <c>PredictedLabel</c> added (lazy: rows are scored as a cursor reads them).</summary>
    /// <exception cref="ArgumentException">The feature column is missing, of the wrong type, or of another vocabulary or context length (or width) than the model's.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new MappedDataView(input, Map(input.Schema));
    }

    /// <summary>
    /// Mean cross-entropy, perplexity and top-1 accuracy of the predictions over labelled rows, computed from the
    /// logits in double precision (<see cref="CharacterModel.Evaluate(IDataView, string, string)"/> for a character
    /// model). <c>mlContext.MulticlassClassification.Evaluate</c> on <see cref="Transform"/>'s output gives the same
    /// accuracy; its LogLoss clips each row's probability at 1e-15, so it reads lower than this loss when the model is
    /// confidently wrong on some rows (a loss above ln 1e15 ≈ 34.5 nats on a row).
    /// </summary>
    /// <param name="data">Rows with the feature column this transformer reads and a label column (a key).</param>
    /// <param name="labelColumnName">The label column: the key of the next symbol, or of the class.</param>
    /// <exception cref="ArgumentException">A column is missing or of the wrong type, the data does not match the model (vocabulary, context length, width or classes), or it is empty.</exception>
    public CharacterModelMetrics Evaluate(IDataView data, string labelColumnName = CharacterModelDefaults.LabelColumnName)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (_model is not null) return _model.Evaluate(data, FeatureColumnName, labelColumnName);
        var (rows, _) = DenseRows.Read(data, FeatureColumnName, labelColumnName, (_dense!.FeatureCount, _dense.ClassCount), "evaluation");
        return _dense.Evaluate(rows);
    }

    /// <summary>This transformer with the model's BatchNorm layers folded into the Linear layers before them (itself if already folded); it keeps <see cref="Training"/>.</summary>
    /// <exception cref="InvalidOperationException">The model has no BatchNorm layer.</exception>
    public BatchNormMlpTransformer Fold()
    {
        if (IsFolded) return this;
        return _dense is not null
            ? new BatchNormMlpTransformer(_dense.Fold(), FeatureColumnName, Training, ScoreColumnName, PredictedLabelColumnName)
            : new BatchNormMlpTransformer(((BatchNormCharacterModel)_model!).Fold(), FeatureColumnName, Training, ScoreColumnName, PredictedLabelColumnName);
    }

    /// <summary>
    /// Writes the model as ONNX for an ML.NET scoring pipeline, atomically, with its BatchNorm layers folded into the
    /// Linear layers first (when it has any). A character model: input uint32 <c>ids</c> [N, context length] holding
    /// ML.NET key values (vocabulary id + 1: the context column's raw keys, e.g. after
    /// <c>ConvertType("ids", "Context", DataKind.UInt32)</c>); a dense one: input float <c>features</c> [N, width].
    /// Outputs float <c>logits</c> and <c>probabilities</c> [N, vocabulary or classes] (the softmax, equal to <c>Score</c>).
    /// Apply it with <c>mlContext.Transforms.ApplyOnnxModel</c>; <c>CharacterModel.ExportOnnx</c> writes the plain graph
    /// (int64 vocabulary ids, logits only) for other hosts.
    /// </summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void ExportOnnx(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (_dense is not null)
        {
            var dense = _dense.HasBatchNorm && !_dense.IsFolded ? _dense.Fold() : _dense;
            Export.Onnx.OnnxExport.Save(path, dense.ToModelState(), new Export.Onnx.OnnxExportOptions { KeyInput = false, Probabilities = true });
            return;
        }
        var model = _model is BatchNormCharacterModel bn && (bn.Configuration.HiddenBatchNorm || bn.Configuration.OutputBatchNorm) ? bn.Fold() : _model!;
        Export.Onnx.OnnxExport.Save(path, model.ToModelState(), new Export.Onnx.OnnxExportOptions { KeyInput = true, Probabilities = true });
    }

    /// <summary>Writes the model file (see <see cref="CharacterModel.Save"/>): the vocabulary and context length (or the feature width and class count) travel with it.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void Save(string path)
    {
        if (_model is not null) _model.Save(path);
        else
        {
            ArgumentException.ThrowIfNullOrEmpty(path);
            Export.ModelFile.Save(path, _dense!.ToModelState());
        }
    }

    /// <summary>
    /// Reads a model file into a transformer that reads <paramref name="featureColumnName"/>; predictions are
    /// bit-identical to the saved model's. A dense-input model file gives a dense transformer (name its feature
    /// column, e.g. <c>Features</c>).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is malformed; the message names the file and the fault.</exception>
    public static BatchNormMlpTransformer Load(string path, string featureColumnName = CharacterModelDefaults.ContextColumnName)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(featureColumnName);
        var state = Export.ModelFile.Load(path);
        if (!state.Config.IsDense) return new(CharacterModel.FromFile(state, path), featureColumnName);
        try { return new(DenseClassifier.FromState(state), featureColumnName); }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException)
        {
            throw new ModelFormatException($"'{path}' is not a valid {Export.ModelFile.FormatName} model file: {ex.Message}", ex);
        }
    }

    /// <summary>Not supported (ML.NET's model zip holds only ML.NET's own transformers); see <see cref="ExportOnnx"/> for a pipeline ML.NET saves.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    void ICanSaveModel.Save(ModelSaveContext ctx) => throw MlNetPersistence.NotSupported(nameof(BatchNormMlpTransformer));

    internal static SchemaShape OutputShape(SchemaShape input, bool dense)
    {
        // Placeholder count: a shape records that PredictedLabel is a key, not its count.
        var key = new KeyDataViewType(typeof(uint), 2);
        var score = new VectorDataViewType(NumberDataViewType.Single, 2);
        return dense
            ? With(input,
                new Added(CharacterModelDefaults.ScoreColumnName, ShapeMember.Vector, score),
                new Added(CharacterModelDefaults.PredictedLabelColumnName, ShapeMember.Key, key))
            : With(input,
                new Added(CharacterModelDefaults.ScoreColumnName, ShapeMember.Vector, score, VocabularyColumns.SlotNames),
                new Added(CharacterModelDefaults.PredictedLabelColumnName, ShapeMember.Key, key, VocabularyColumns.KeyValues));
    }

    private ScoreMapping Map(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (_model is not null)
        {
            var context = KeyRows.ModelContextColumn(inputSchema, FeatureColumnName, _model.Vocabulary, _model.ContextLength, nameof(inputSchema));
            return new ScoreMapping(inputSchema, context, this, _model.Vocabulary.Count,
                VocabularyColumns.SlotNameAnnotations(_model.Vocabulary), VocabularyColumns.KeyAnnotations(_model.Vocabulary));
        }
        var column = inputSchema.GetColumnOrNull(FeatureColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The input has no column '{FeatureColumnName}' (the features the model reads). Columns: {string.Join(", ", inputSchema.Where(c => !c.IsHidden).Select(c => c.Name))}.");
        if (column.Type is not VectorDataViewType { IsKnownSize: true, ItemType: NumberDataViewType item } vector || item.RawType != typeof(float) || vector.Size != _dense!.FeatureCount)
            throw new ArgumentException($"Column '{FeatureColumnName}' must be a vector of {_dense!.FeatureCount} Single features, as the model was trained on; it is {column.Type}.", nameof(inputSchema));
        return new ScoreMapping(inputSchema, column, this, _dense.ClassCount, null, null);
    }

    /// <summary>Score and PredictedLabel from one row's features; one forward pass serves both.</summary>
    private sealed class ScoreMapping : AddedColumns
    {
        private readonly DataViewSchema.Column _features;
        private readonly BatchNormMlpTransformer _transformer;

        public ScoreMapping(DataViewSchema input, DataViewSchema.Column features, BatchNormMlpTransformer t, int classes,
            DataViewSchema.Annotations? slotNames, DataViewSchema.Annotations? keyValues)
            : base(input, [
                new AddedColumn(t.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, classes), slotNames),
                new AddedColumn(t.PredictedLabelColumnName, new KeyDataViewType(typeof(uint), classes), keyValues)])
        {
            _features = features;
            _transformer = t;
        }

        public override IEnumerable<DataViewSchema.Column> Dependencies => [_features];

        private ScoreBlock Block(DataViewRow row, int capacity) => _transformer._model is { } model
            ? new ContextBlock(model, capacity, row.GetGetter<VBuffer<uint>>(_features), _features.Name)
            : new FeatureBlock(_transformer._dense!, capacity, row.GetGetter<VBuffer<float>>(_features), _features.Name);

        // One row at a time: prediction engines, parallel cursors, shuffled cursors.
        public override Delegate?[] MakeGetters(DataViewRow input, bool[] active)
        {
            if (!active[0] && !active[1]) return [null, null];
            var block = Block(input, 1);
            long scored = -1;
            void Score()
            {
                if (scored == input.Position) return;
                block.Read(0, input.Position);
                block.Compute(1);
                scored = input.Position;
            }
            return Getters(block, Score, () => 0, active);
        }

        // A cursor from the start of the source: a second cursor reads the features of the next rows ahead, so that
        // the network scores blocks of rows at once (as the engine's own evaluation does) instead of one row per call.
        public override Delegate?[] MakeCursorGetters(DataViewRowCursor input, IDataView source, bool[] active, bool shuffled, out IDisposable? resource)
        {
            resource = null;
            if ((!active[0] && !active[1]) || shuffled) return MakeGetters(input, active);
            var ahead = source.GetRowCursor([_features]);
            resource = ahead;
            var block = Block(ahead, BlockRows);
            long start = 0, count = 0;
            void Score()
            {
                long p = input.Position;
                if (p >= start && p < start + count) return;
                while (ahead.Position < p)
                    if (!ahead.MoveNext()) break;
                if (ahead.Position != p)
                    throw new InvalidOperationException($"The source of column '{_features.Name}' gave a second cursor other rows than the first (row {ahead.Position} for {p}); it must give the same rows in the same order.");
                int rows = 0;
                while (true)
                {
                    block.Read(rows++, ahead.Position);
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
            int k = block.Classes;
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

    /// <summary>The inputs, probabilities and most probable ids of a block of rows.</summary>
    private abstract class ScoreBlock(int classes, int capacity)
    {
        public int Classes { get; } = classes;

        public float[] Probabilities { get; } = new float[capacity * classes];

        public int[] Best { get; } = new int[capacity];

        /// <summary>Reads the current row of the getter's cursor into slot <paramref name="slot"/>.</summary>
        public abstract void Read(int slot, long position);

        /// <summary>Writes the logits of the first <paramref name="rows"/> slots into <see cref="Probabilities"/>.</summary>
        protected abstract void ComputeLogits(int rows);

        public void Compute(int rows)
        {
            int k = Classes;
            ComputeLogits(rows);
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

    private sealed class ContextBlock(CharacterModel model, int capacity, ValueGetter<VBuffer<uint>> getter, string column)
        : ScoreBlock(model.Vocabulary.Count, capacity)
    {
        private readonly int[] _ids = new int[capacity * model.ContextLength];
        private VBuffer<uint> _keys;

        public override void Read(int slot, long position)
        {
            getter(ref _keys);
            int n = model.ContextLength;
            if (KeyRows.ToIds(_keys, _ids.AsSpan(slot * n, n), Classes) is int j and >= 0)
                throw new ArgumentException($"Column '{column}', row {position}: context position {j} is a missing key (0).");
        }

        protected override void ComputeLogits(int rows) =>
            model.ComputeLogits(_ids.AsSpan(0, rows * model.ContextLength), rows, Probabilities.AsSpan(0, rows * Classes));
    }

    private sealed class FeatureBlock(DenseClassifier model, int capacity, ValueGetter<VBuffer<float>> getter, string column)
        : ScoreBlock(model.ClassCount, capacity)
    {
        private readonly float[] _features = new float[capacity * model.FeatureCount];
        private VBuffer<float> _row;

        public override void Read(int slot, long position)
        {
            getter(ref _row);
            int f = model.FeatureCount;
            var target = _features.AsSpan(slot * f, f);
            _row.CopyTo(target);
            for (int j = 0; j < f; j++)
                if (!float.IsFinite(target[j]))
                    throw new ArgumentException($"Column '{column}', row {position}: feature {j} is {target[j]}; every feature must be a finite number.");
        }

        protected override void ComputeLogits(int rows) =>
            model.ComputeLogits(_features.AsSpan(0, rows * model.FeatureCount), rows, Probabilities.AsSpan(0, rows * Classes));
    }
}
