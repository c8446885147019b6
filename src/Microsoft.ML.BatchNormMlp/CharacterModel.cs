using System.Buffers;
using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Export.Onnx;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// A fitted character-level model: predicts the next symbol, scores and samples names, evaluates, saves and
/// exports. Either a <see cref="BatchNormCharacterModel"/> (as trained, BatchNorm in evaluation mode) or a
/// <see cref="FoldedCharacterModel"/> (BatchNorm folded away, faster). A model is immutable: prediction never
/// modifies it, so one instance serves any number of threads at once with the same results as sequential calls.
/// </summary>
public abstract class CharacterModel
{
    // Rows per forward pass when scoring or evaluating many rows.
    private const int BlockRows = 4096;

    private protected CharacterModel(Vocabulary vocabulary, MlpConfig configuration)
    {
        if (configuration.IsDense || configuration.VocabularySize != vocabulary.Count || configuration.OutputWidth != vocabulary.Count)
            throw new ArgumentException($"A character model needs symbol inputs and outputs over its vocabulary of {vocabulary.Count} symbols.", nameof(configuration));
        Vocabulary = vocabulary;
        Configuration = configuration;
    }

    /// <summary>The symbols the model reads and predicts, in id order.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>The architecture (as trained; a folded model keeps its trained configuration).</summary>
    public MlpConfig Configuration { get; }

    /// <summary>Previous symbols the model reads.</summary>
    public int ContextLength => Configuration.ContextLength;

    /// <summary>Whether the BatchNorm layers are folded away (<see cref="FoldedCharacterModel"/>).</summary>
    public abstract bool IsFolded { get; }

    /// <summary>
    /// Trained weights: embeddings, Linear weights and biases, BatchNorm scales and shifts (running statistics are
    /// not counted: they are measured, not learned). A folded model counts its folded weights, so folding shrinks it.
    /// The size figure of a trainer comparison.
    /// </summary>
    public int ParameterCount => CountParameters(ToModelState());

    /// <summary>The trained weights of a model state: every tensor but the BatchNorm running statistics.</summary>
    internal static int CountParameters(ModelState state) => state.Tensors.Where(t => !IsRunningStatistic(t.Key)).Sum(t => t.Value.Length);

    // BatchNorm buffers in the model file: "*.running_mean", "*.running_var" (PyTorch's names).
    private static bool IsRunningStatistic(string tensor) =>
        tensor.EndsWith(".running_mean", StringComparison.Ordinal) || tensor.EndsWith(".running_var", StringComparison.Ordinal);

    /// <summary>Logits [rows, vocabulary] for contexts [rows, context length] of valid ids. Thread-safe.</summary>
    internal abstract void ComputeLogits(ReadOnlySpan<int> contexts, int rows, Span<float> logits);

    /// <summary>The model as a model file's content (tensors may be shared: do not modify).</summary>
    internal abstract ModelState ToModelState();

    /// <summary>
    /// The probability of each symbol (indexed by id; see <see cref="Vocabulary"/>) coming next after
    /// <paramref name="prefix"/>, the start of a name ("" for the first symbol). Only the last
    /// <see cref="ContextLength"/> symbols matter; a shorter prefix is padded with the boundary symbol, as in training.
    /// The boundary symbol's probability is that of the name ending here.
    /// </summary>
    /// <param name="prefix">The symbols so far.</param>
    /// <param name="handling">Whether a symbol outside the vocabulary is an error (default) or maps to the reserved unknown id.</param>
    /// <exception cref="ArgumentException">A symbol is not in the vocabulary, or the prefix holds the boundary symbol; the message names it and its position.</exception>
    public float[] PredictNext(string prefix, UnknownSymbolHandling handling = UnknownSymbolHandling.Error)
    {
        int[] ids = EncodeName(prefix, handling, nameof(prefix));
        int n = ContextLength, k = Vocabulary.Count;
        var context = new int[n];   // boundary-padded
        for (int j = 0; j < n; j++)
        {
            int at = ids.Length - n + j;
            if (at >= 0) context[j] = ids[at];
        }
        var logits = new float[k];
        ComputeLogits(context, 1, logits);
        Softmax(logits, 1f);
        return logits;
    }

    /// <summary>
    /// The logits (unnormalized log-probabilities) of the next symbol for every row of <paramref name="data"/>, in
    /// its order, row-major [rows, vocabulary]: <c>result[row * Vocabulary.Count + id]</c>. The batch form of
    /// <see cref="PredictNext"/> before the softmax, e.g. to compare two models (such as a model and its
    /// <see cref="BatchNormCharacterModel.Fold"/>) row by row.
    /// </summary>
    /// <param name="data">Featurized rows (the model's vocabulary and context length).</param>
    /// <param name="featureColumnName">The context column (a vector of keys).</param>
    /// <exception cref="ArgumentException">The column is missing, of the wrong type, or of another vocabulary or context length than the model's; or the logits do not fit in one array.</exception>
    public float[] PredictLogits(IDataView data, string featureColumnName = CharacterModelDefaults.ContextColumnName)
    {
        ArgumentNullException.ThrowIfNull(data);
        var contexts = MlNet.KeyRows.ReadContexts(data, featureColumnName, Vocabulary, ContextLength, "prediction");
        int rows = contexts.Length / ContextLength, k = Vocabulary.Count;
        if ((long)rows * k > Array.MaxLength)
            throw new ArgumentException($"{rows} rows of {k} logits do not fit in one array; predict a smaller data set at a time.", nameof(data));
        var logits = new float[rows * k];
        ComputeLogits(contexts, rows, logits);
        return logits;
    }

    /// <summary>The logits of every row of <paramref name="data"/>, as <see cref="PredictLogits(IDataView, string)"/>.</summary>
    /// <exception cref="ArgumentException">The data was featurized with another vocabulary or context length.</exception>
    internal float[] PredictLogits(CharacterDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckCompatible(data, nameof(data));
        int k = Vocabulary.Count;
        if ((long)data.Count * k > Array.MaxLength)
            throw new ArgumentException($"{data.Count} rows of {k} logits do not fit in one array; predict a smaller data set at a time.", nameof(data));
        var logits = new float[data.Count * k];
        ComputeLogits(data.Windows.Contexts, data.Count, logits);
        return logits;
    }

    /// <summary>
    /// The log-likelihood of <paramref name="name"/> as a whole name: every symbol given the ones before it, then
    /// the end of the name; and its perplexity per prediction (lower is more name-like).
    /// </summary>
    /// <param name="name">The string to score ("" scores an empty name).</param>
    /// <param name="handling">Whether a symbol outside the vocabulary is an error (default) or maps to the reserved unknown id.</param>
    /// <exception cref="ArgumentException">A symbol is not in the vocabulary, or the name holds the boundary symbol; the message names it and its position.</exception>
    public NameScore Score(string name, UnknownSymbolHandling handling = UnknownSymbolHandling.Error) => ScoreBatch([name], handling)[0];

    /// <summary>
    /// <see cref="Score"/> for many names at once, in their order; faster than one call per name because the rows
    /// of all names go through the network in large batches.
    /// </summary>
    /// <exception cref="ArgumentException">A name holds a symbol outside the vocabulary or the boundary symbol; the message names the name, the symbol and its position.</exception>
    public NameScore[] ScoreBatch(IEnumerable<string> names, UnknownSymbolHandling handling = UnknownSymbolHandling.Error)
    {
        ArgumentNullException.ThrowIfNull(names);
        IReadOnlyList<string> list = names as IReadOnlyList<string> ?? [.. names];
        var encoded = new int[list.Count][];
        for (int i = 0; i < list.Count; i++) encoded[i] = EncodeName(list[i], handling, $"names[{i}]");

        int n = ContextLength;
        var scores = new NameScore[list.Count];
        var contexts = ArrayPool<int>.Shared.Rent(BlockRows * n);
        var targets = ArrayPool<int>.Shared.Rent(BlockRows);
        var logProbs = ArrayPool<double>.Shared.Rent(BlockRows);
        try
        {
            // Rows are laid out name after name; a block holds whole names or parts of one.
            int name = 0, position = 0, finished = 0;
            double sum = 0;
            while (finished < list.Count)
            {
                int rows = 0, firstName = name, firstPosition = position;   // where this block starts
                while (rows < BlockRows && name < list.Count)
                {
                    var ids = encoded[name];
                    var context = contexts.AsSpan(rows * n, n);
                    for (int j = 0; j < n; j++)
                    {
                        int at = position - n + j;
                        context[j] = at >= 0 ? ids[at] : Vocabulary.BoundaryId;
                    }
                    targets[rows++] = position < ids.Length ? ids[position] : Vocabulary.BoundaryId;
                    if (++position > ids.Length) { name++; position = 0; }
                }
                LogProbabilities(contexts.AsSpan(0, rows * n), targets.AsSpan(0, rows), logProbs.AsSpan(0, rows), null);
                int r = 0, nm = firstName, pos = firstPosition;
                while (r < rows)
                {
                    sum += logProbs[r++];
                    if (++pos > encoded[nm].Length)
                    {
                        int predictions = encoded[nm].Length + 1;
                        scores[nm] = new NameScore(list[nm], sum, predictions, Math.Exp(-sum / predictions));
                        finished++;
                        sum = 0; nm++; pos = 0;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(contexts); ArrayPool<int>.Shared.Return(targets); ArrayPool<double>.Shared.Return(logProbs);
        }
        return scores;
    }

    /// <summary>
    /// Generates names: each starts from a context of boundary symbols and draws symbols until the boundary symbol
    /// (the end) or <paramref name="maxLength"/> symbols. Never emits the unknown symbol or anything outside the
    /// vocabulary. Deterministic: the same seed gives the same names, and name i does not depend on <paramref name="count"/>.
    /// </summary>
    /// <param name="count">Names to generate, 0 to <see cref="CharacterModelDefaults.MaxSampleCount"/>.</param>
    /// <param name="seed">Seed of the draws.</param>
    /// <param name="temperature">Divides the logits: below 1 sharpens, above 1 flattens; in (0, <see cref="CharacterModelDefaults.MaxTemperature"/>].</param>
    /// <param name="topK">Draw only among the k most probable symbols; 0 for all. At most the vocabulary size.</param>
    /// <param name="maxLength">Longest name in symbols, 1 to <see cref="CharacterModelDefaults.MaxNameLengthLimit"/>; a name that reaches it is cut there.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range (the message names it and the range).</exception>
    public IReadOnlyList<string> Sample(int count, int seed = 0, float temperature = CharacterModelDefaults.Temperature,
        int topK = CharacterModelDefaults.TopK, int maxLength = CharacterModelDefaults.MaxNameLength)
    {
        if (count is < 0 or > CharacterModelDefaults.MaxSampleCount)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"count must be between 0 and {CharacterModelDefaults.MaxSampleCount}; got {count}.");
        if (!(temperature > 0 && temperature <= CharacterModelDefaults.MaxTemperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, $"temperature must be in (0, {CharacterModelDefaults.MaxTemperature}]; got {temperature}.");
        if (topK < 0 || topK > Vocabulary.Count)
            throw new ArgumentOutOfRangeException(nameof(topK), topK, $"topK must be between 0 (all symbols) and the vocabulary size {Vocabulary.Count}; got {topK}.");
        if (maxLength is < 1 or > CharacterModelDefaults.MaxNameLengthLimit)
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"maxLength must be between 1 and {CharacterModelDefaults.MaxNameLengthLimit}; got {maxLength}.");

        int n = ContextLength, k = Vocabulary.Count;
        var names = new List<int>[count];
        var rngs = new Rng[count];
        for (int i = 0; i < count; i++)
        {
            names[i] = [];
            // One stream per name, so that name i is the same whatever the count.
            rngs[i] = new Rng(unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)i * 0xD1B54A32D192ED03UL));
        }
        var active = Enumerable.Range(0, count).ToList();
        var contexts = new int[Math.Max(1, count) * n];   // [active, n]
        var logits = new float[Math.Max(1, count) * k];   // [active, k]
        var order = new int[k];
        while (active.Count > 0)
        {
            for (int a = 0; a < active.Count; a++)
            {
                var ids = names[active[a]];
                for (int j = 0; j < n; j++)
                {
                    int at = ids.Count - n + j;
                    contexts[a * n + j] = at >= 0 ? ids[at] : Vocabulary.BoundaryId;
                }
            }
            ComputeLogits(contexts.AsSpan(0, active.Count * n), active.Count, logits.AsSpan(0, active.Count * k));
            var next = new List<int>(active.Count);
            for (int a = 0; a < active.Count; a++)
            {
                int i = active[a];
                int id = Draw(logits.AsSpan(a * k, k), temperature, topK, rngs[i], order);
                if (id == Vocabulary.BoundaryId) continue;
                names[i].Add(id);
                if (names[i].Count < maxLength) next.Add(i);
            }
            active = next;
        }
        return [.. names.Select(ids => Vocabulary.Decode(ids.ToArray()))];
    }

    /// <summary>
    /// Mean cross-entropy (double precision), perplexity and top-1 accuracy of the next-symbol predictions over the
    /// context-window rows of <paramref name="data"/> (the featurizer's context and label columns). ML.NET's
    /// <c>MulticlassClassification.Evaluate</c> on the transformer's output gives the same loss as its LogLoss.
    /// </summary>
    /// <param name="data">Featurized rows.</param>
    /// <param name="featureColumnName">The context column (a vector of keys).</param>
    /// <param name="labelColumnName">The label column (a key).</param>
    /// <exception cref="ArgumentException">A column is missing or of the wrong type, the data was featurized with another vocabulary or context length, or it is empty.</exception>
    public CharacterModelMetrics Evaluate(IDataView data, string featureColumnName = CharacterModelDefaults.ContextColumnName, string labelColumnName = CharacterModelDefaults.LabelColumnName)
    {
        ArgumentNullException.ThrowIfNull(data);
        // Read checks the columns; Evaluate(rows) checks the vocabulary and context length against the model's.
        return Evaluate(MlNet.KeyRows.Read(data, featureColumnName, labelColumnName, null, "evaluation"));
    }

    /// <summary>Mean cross-entropy, perplexity and top-1 accuracy of the next-symbol predictions over <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The data was featurized with another vocabulary or context length, or is empty.</exception>
    internal CharacterModelMetrics Evaluate(CharacterDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckCompatible(data, nameof(data));
        if (data.Count == 0) throw new ArgumentException("Cannot evaluate an empty data set.", nameof(data));
        int n = ContextLength;
        var logProbs = new double[Math.Min(BlockRows, data.Count)];
        var correct = new bool[logProbs.Length];
        double loss = 0;
        long hits = 0;
        for (int start = 0; start < data.Count; start += BlockRows)
        {
            int rows = Math.Min(BlockRows, data.Count - start);
            LogProbabilities(data.Windows.Contexts.AsSpan(start * n, rows * n), data.Windows.Targets.AsSpan(start, rows), logProbs.AsSpan(0, rows), correct);
            for (int r = 0; r < rows; r++) { loss -= logProbs[r]; if (correct[r]) hits++; }
        }
        double mean = loss / data.Count;
        return new CharacterModelMetrics(mean, Math.Exp(mean), (double)hits / data.Count, data.Count);
    }

    /// <summary>
    /// Writes the model file (safetensors, format <c>bnmlp/1</c>: docs/model-format.md) atomically. A folded model
    /// writes the folded layout and loads back as a <see cref="FoldedCharacterModel"/>; predictions after
    /// <see cref="Load"/> are bit-identical.
    /// </summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ModelFile.Save(path, ToModelState());
    }

    /// <summary>
    /// Writes the model as ONNX (IR version 8, opset 13) atomically: input int64 <c>ids</c> [N, context length],
    /// output float <c>logits</c> [N, vocabulary], dynamic batch axis N.
    /// </summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void ExportOnnx(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        OnnxExport.Save(path, ToModelState());
    }

    /// <summary>Reads a model file written by <see cref="Save"/>: a folded file gives a <see cref="FoldedCharacterModel"/>, any other a <see cref="BatchNormCharacterModel"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is malformed, disagrees with its configuration, or holds a dense-input model; the message names the file and the fault.</exception>
    public static CharacterModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return FromFile(ModelFile.Load(path), path);
    }

    /// <summary>The character model of a model file's content read from <paramref name="path"/> (named in errors).</summary>
    /// <exception cref="ModelFormatException">The content is invalid, or a dense-input model.</exception>
    internal static CharacterModel FromFile(ModelState state, string path)
    {
        if (state.Config.IsDense)
            throw new ModelFormatException($"'{path}' holds a dense-input model (a classifier of {state.Config.DenseInputWidth} features), not a character model.");
        Vocabulary vocabulary;
        try { vocabulary = Vocabulary.FromSymbols(state.Vocabulary!, state.LastSymbolIsUnknown); }
        catch (ArgumentException ex) { throw new ModelFormatException($"'{path}' is not a valid {ModelFile.FormatName} model file: metadata 'vocabulary': {ex.Message}", ex); }
        try
        {
            return state.Folded ? new FoldedCharacterModel(state, vocabulary) : BatchNormCharacterModel.FromState(state, vocabulary, training: null);
        }
        catch (InvalidDataException ex) { throw new ModelFormatException($"'{path}' is not a valid {ModelFile.FormatName} model file: {ex.Message}", ex); }
    }

    /// <summary>"bn1-like: 27 symbols, context 3, ..." for display.</summary>
    public override string ToString()
    {
        var c = Configuration;
        return $"{(IsFolded ? "folded " : "")}character model: {Vocabulary.Count} symbols, context {c.ContextLength}, embedding {c.EmbeddingWidth}, hidden [{string.Join(", ", c.HiddenWidths)}] {(c.ActivationGroups is { } g ? $"groups of {string.Join("/", g)}" : c.Activation)}, {c.BlockStyle}{(c.Residual ? " residual" : "")}{(c.HiddenBatchNorm ? ", BatchNorm" : "")}";
    }

    private protected void CheckCompatible(CharacterDataset data, string parameter)
    {
        if (data.ContextLength != ContextLength)
            throw new ArgumentException($"The data's rows hold contexts of {data.ContextLength} symbols but the model reads {ContextLength}.", parameter);
        if (!ReferenceEquals(data.Vocabulary, Vocabulary)
            && (!data.Vocabulary.Symbols.SequenceEqual(Vocabulary.Symbols) || data.Vocabulary.UnknownId != Vocabulary.UnknownId))
            throw new ArgumentException($"The data was featurized with another vocabulary ({data.Vocabulary}) than the model's ({Vocabulary}); featurize it with the model's vocabulary.", parameter);
    }

    private int[] EncodeName(string text, UnknownSymbolHandling handling, string parameter)
    {
        ArgumentNullException.ThrowIfNull(text, parameter);
        int[] ids = Vocabulary.Encode(text, handling);
        int at = Array.IndexOf(ids, Vocabulary.BoundaryId);
        if (at >= 0)
            throw new ArgumentException($"Character {at + 1} of \"{text}\" is the boundary symbol '{Vocabulary.BoundarySymbol}', which marks the start and end of names and cannot occur inside one.", parameter);
        return ids;
    }

    // log p(target | context) per row, and whether the target is the most probable symbol (first maximum on ties).
    private void LogProbabilities(ReadOnlySpan<int> contexts, ReadOnlySpan<int> targets, Span<double> logProbs, bool[]? correct)
    {
        int rows = targets.Length, k = Vocabulary.Count;
        var logits = ArrayPool<float>.Shared.Rent(rows * k);
        try
        {
            ComputeLogits(contexts, rows, logits.AsSpan(0, rows * k));
            LogProbabilities(logits.AsSpan(0, rows * k), k, targets, logProbs, correct);
        }
        finally { ArrayPool<float>.Shared.Return(logits); }
    }

    /// <summary>
    /// log p(target) of each row of <paramref name="logits"/> [rows, k] in double precision (the log-softmax of the
    /// logits, never clipped), and whether the target is the most probable class (first maximum on ties).
    /// </summary>
    internal static void LogProbabilities(ReadOnlySpan<float> logits, int k, ReadOnlySpan<int> targets, Span<double> logProbs, bool[]? correct)
    {
        for (int r = 0; r < targets.Length; r++)
        {
            var row = logits.Slice(r * k, k);
            int best = 0;
            for (int j = 1; j < k; j++) if (row[j] > row[best]) best = j;
            double max = row[best], sum = 0;
            for (int j = 0; j < k; j++) sum += Math.Exp(row[j] - max);
            logProbs[r] = row[targets[r]] - max - Math.Log(sum);
            if (correct is not null) correct[r] = best == targets[r];
        }
    }

    internal static void Softmax(Span<float> logits, float temperature)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits) max = Math.Max(max, v);
        double sum = 0;
        for (int j = 0; j < logits.Length; j++) sum += Math.Exp((logits[j] - max) / temperature);
        for (int j = 0; j < logits.Length; j++) logits[j] = (float)(Math.Exp((logits[j] - max) / temperature) / sum);
    }

    // One draw from softmax(logits / temperature) restricted to the top k allowed symbols (never the unknown id).
    private int Draw(ReadOnlySpan<float> logits, float temperature, int topK, Rng rng, int[] order)
    {
        int k = logits.Length, allowed = 0;
        int? unknown = Vocabulary.UnknownId;
        for (int j = 0; j < k; j++) if (j != unknown) order[allowed++] = j;
        var candidates = order.AsSpan(0, allowed);
        if (topK > 0 && topK < allowed)
        {
            // Most probable first, ties by id: a deterministic cut.
            var local = logits.ToArray();
            candidates.Sort((a, b) => local[b] != local[a] ? local[b].CompareTo(local[a]) : a.CompareTo(b));
            candidates = candidates[..topK];
        }
        float max = float.NegativeInfinity;
        foreach (int j in candidates) max = Math.Max(max, logits[j]);
        double total = 0;
        foreach (int j in candidates) total += Math.Exp((logits[j] - max) / temperature);
        double u = rng.NextDouble() * total, cumulative = 0;
        foreach (int j in candidates)
        {
            cumulative += Math.Exp((logits[j] - max) / temperature);
            if (u < cumulative) return j;
        }
        return candidates[^1];   // u rounded up to the total
    }
}
