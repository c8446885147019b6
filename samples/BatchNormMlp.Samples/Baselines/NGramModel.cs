namespace BatchNormMlp.Samples.Baselines;

/// <summary>
/// A count-based next-symbol model over the same context windows the MLP reads:
/// <c>P(y | ctx) = (count(ctx, y) + k) / (count(ctx) + k * V)</c> (add-k smoothing). A context never seen in
/// training has count 0 and gets the uniform distribution 1/V.
/// </summary>
/// <remarks>
/// Each (context, target) pair is packed into one long, <c>(c0 * V + c1) * V ... * V + y</c>, so the counts are a
/// sorted array of distinct keys with a count each: memory grows with the distinct pairs seen (at most one per
/// training row), not with V^context. All targets of one context sit next to each other in that array, which
/// makes a context's total and its most frequent target one binary search away.
/// </remarks>
internal sealed class NGramModel
{
    private readonly long[] _keys;   // [distinct pairs] ascending
    private readonly int[] _counts;  // [distinct pairs]

    private NGramModel(int contextLength, int vocabularySize, long[] keys, int[] counts, int rows)
    {
        (ContextLength, VocabularySize, _keys, _counts, TrainingRows) = (contextLength, vocabularySize, keys, counts, rows);
    }

    public int ContextLength { get; }
    public int VocabularySize { get; }
    public int TrainingRows { get; }

    /// <summary>Distinct (context, target) pairs seen in training.</summary>
    public int DistinctPairs => _keys.Length;

    /// <summary>
    /// Counts the rows: <paramref name="contexts"/> is [rows, <paramref name="contextLength"/>] flattened,
    /// <paramref name="targets"/> is [rows], every id in [0, <paramref name="vocabularySize"/>).
    /// </summary>
    public static NGramModel Fit(ReadOnlySpan<int> contexts, ReadOnlySpan<int> targets, int contextLength, int vocabularySize)
    {
        Validate(contexts, targets, contextLength, vocabularySize, "training");
        var keys = new long[targets.Length];
        for (int r = 0; r < targets.Length; r++)
            keys[r] = PairKey(ContextKey(contexts.Slice(r * contextLength, contextLength), vocabularySize), targets[r], vocabularySize);
        Array.Sort(keys);

        // Run-length encode the sorted keys into distinct keys and their counts.
        int distinct = 0;
        var counts = new int[keys.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            if (distinct > 0 && keys[distinct - 1] == keys[i]) { counts[distinct - 1]++; continue; }
            keys[distinct] = keys[i];
            counts[distinct] = 1;
            distinct++;
        }
        return new NGramModel(contextLength, vocabularySize, keys[..distinct], counts[..distinct], targets.Length);
    }

    /// <summary>Training rows whose context was <paramref name="context"/> and whose next symbol was <paramref name="target"/>.</summary>
    public int Count(ReadOnlySpan<int> context, int target)
    {
        CheckContext(context);
        CheckId(target, "target");
        long key = PairKey(ContextKey(context, VocabularySize), target, VocabularySize);
        int i = Array.BinarySearch(_keys, key);
        return i >= 0 ? _counts[i] : 0;
    }

    /// <summary>Training rows whose context was <paramref name="context"/>.</summary>
    public int Count(ReadOnlySpan<int> context)
    {
        CheckContext(context);
        var (start, end) = Range(ContextKey(context, VocabularySize));
        int total = 0;
        for (int i = start; i < end; i++) total += _counts[i];
        return total;
    }

    public double Probability(ReadOnlySpan<int> context, int target, double k)
    {
        CheckK(k);
        return (Count(context, target) + k) / (Count(context) + k * VocabularySize);
    }

    /// <summary>Writes P(y | <paramref name="context"/>) for every y into <paramref name="destination"/> [V].</summary>
    public void Probabilities(ReadOnlySpan<int> context, double k, Span<double> destination)
    {
        CheckK(k);
        CheckContext(context);
        if (destination.Length != VocabularySize)
            throw new ArgumentException($"The destination holds {destination.Length} values; the vocabulary has {VocabularySize}.", nameof(destination));
        long contextKey = ContextKey(context, VocabularySize);
        var (start, end) = Range(contextKey);
        int total = 0;
        for (int i = start; i < end; i++) total += _counts[i];
        double denominator = total + k * VocabularySize;
        destination.Fill(k / denominator);
        for (int i = start; i < end; i++)
            destination[(int)(_keys[i] - contextKey * VocabularySize)] = (_counts[i] + k) / denominator;
    }

    /// <summary>
    /// Looks up, once per row, the counts that every k needs (see <see cref="NGramRows"/>), so that a grid of
    /// smoothing values costs one pass over the table.
    /// </summary>
    public NGramRows Collect(ReadOnlySpan<int> contexts, ReadOnlySpan<int> targets, string splitName = "evaluation")
    {
        Validate(contexts, targets, ContextLength, VocabularySize, splitName);
        var targetCounts = new int[targets.Length];   // [rows]
        var contextCounts = new int[targets.Length];  // [rows]
        int correct = 0;
        for (int r = 0; r < targets.Length; r++)
        {
            long contextKey = ContextKey(contexts.Slice(r * ContextLength, ContextLength), VocabularySize);
            var (start, end) = Range(contextKey);
            int total = 0, best = -1, bestCount = 0, targetCount = 0;
            long targetKey = PairKey(contextKey, targets[r], VocabularySize);
            for (int i = start; i < end; i++)
            {
                total += _counts[i];
                // Keys ascend with the target id, so a strict > keeps the lowest id among ties (like argmax).
                if (_counts[i] > bestCount) { bestCount = _counts[i]; best = (int)(_keys[i] - contextKey * VocabularySize); }
                if (_keys[i] == targetKey) targetCount = _counts[i];
            }
            // An unseen context is uniform for every k: argmax picks id 0.
            int predicted = best < 0 ? 0 : best;
            if (predicted == targets[r]) correct++;
            targetCounts[r] = targetCount;
            contextCounts[r] = total;
        }
        return new NGramRows(VocabularySize, targetCounts, contextCounts, correct);
    }

    /// <summary>Cross-entropy and top-1 accuracy of the model with smoothing <paramref name="k"/> on the given rows.</summary>
    public NGramEvaluation Evaluate(ReadOnlySpan<int> contexts, ReadOnlySpan<int> targets, double k) =>
        Collect(contexts, targets).Evaluate(k);

    /// <summary>The half-open index range of <c>_keys</c> holding <paramref name="contextKey"/>'s targets.</summary>
    private (int Start, int End) Range(long contextKey)
    {
        long first = contextKey * VocabularySize;
        return (LowerBound(first), LowerBound(first + VocabularySize));
    }

    private int LowerBound(long key)
    {
        int lo = 0, hi = _keys.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_keys[mid] < key) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    private static long ContextKey(ReadOnlySpan<int> context, int vocabularySize)
    {
        long key = 0;
        foreach (int id in context) key = key * vocabularySize + id;
        return key;
    }

    private static long PairKey(long contextKey, int target, int vocabularySize) => contextKey * vocabularySize + target;

    private static void Validate(ReadOnlySpan<int> contexts, ReadOnlySpan<int> targets, int contextLength, int vocabularySize, string split)
    {
        if (contextLength < 1) throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength, "The context must hold at least one symbol.");
        if (vocabularySize < 2) throw new ArgumentOutOfRangeException(nameof(vocabularySize), vocabularySize, "The vocabulary must hold at least two symbols.");
        // Every (context, target) pair must fit in one long: V^(contextLength + 1) <= long.MaxValue.
        double bits = (contextLength + 1) * Math.Log2(vocabularySize);
        if (bits >= 63)
            throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength,
                string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"A context of {contextLength} over {vocabularySize} symbols needs {bits:F1} bits per key; a long holds keys below 63 bits."));
        if (contexts.Length != (long)targets.Length * contextLength)
            throw new ArgumentException($"The {split} contexts hold {contexts.Length} ids; {targets.Length} targets with a context of {contextLength} need {(long)targets.Length * contextLength}.", nameof(contexts));
        for (int i = 0; i < contexts.Length; i++)
            if ((uint)contexts[i] >= (uint)vocabularySize)
                throw new ArgumentException($"The {split} context of row {i / contextLength}, position {i % contextLength}, holds id {contexts[i]}, outside the vocabulary [0, {vocabularySize}).", nameof(contexts));
        for (int r = 0; r < targets.Length; r++)
            if ((uint)targets[r] >= (uint)vocabularySize)
                throw new ArgumentException($"The {split} target of row {r} is id {targets[r]}, outside the vocabulary [0, {vocabularySize}).", nameof(targets));
    }

    private void CheckContext(ReadOnlySpan<int> context)
    {
        if (context.Length != ContextLength)
            throw new ArgumentException($"The context holds {context.Length} ids; the model reads {ContextLength}.", nameof(context));
        for (int i = 0; i < context.Length; i++) CheckId(context[i], $"context position {i}");
    }

    private void CheckId(int id, string what)
    {
        if ((uint)id >= (uint)VocabularySize)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"The {what} holds id {id}, outside the vocabulary [0, {VocabularySize}).");
    }

    internal static void CheckK(double k)
    {
        if (!(k > 0) || !double.IsFinite(k))
            throw new ArgumentOutOfRangeException(nameof(k), k, "The smoothing k must be positive and finite (k = 0 gives unseen pairs probability 0).");
    }
}

/// <summary>Mean cross-entropy (natural log, like <c>F.cross_entropy</c>) and top-1 accuracy over some rows.</summary>
internal readonly record struct NGramEvaluation(double CrossEntropy, double Accuracy, int Rows);

/// <summary>
/// The counts a split's rows look up, gathered once: count(ctx, y) and count(ctx) per row, and how many rows the
/// most frequent target predicts right (argmax does not depend on k).
/// </summary>
internal sealed class NGramRows
{
    private readonly int _vocabularySize;
    private readonly int[] _targetCounts;   // [rows]
    private readonly int[] _contextCounts;  // [rows]
    private readonly int _correct;

    internal NGramRows(int vocabularySize, int[] targetCounts, int[] contextCounts, int correct)
    {
        (_vocabularySize, _targetCounts, _contextCounts, _correct) = (vocabularySize, targetCounts, contextCounts, correct);
    }

    public int Rows => _targetCounts.Length;

    public double CrossEntropy(double k)
    {
        NGramModel.CheckK(k);
        if (Rows == 0) return double.NaN;
        double sum = 0, kv = k * _vocabularySize;
        for (int r = 0; r < _targetCounts.Length; r++)
            sum -= Math.Log((_targetCounts[r] + k) / (_contextCounts[r] + kv));
        return sum / Rows;
    }

    public NGramEvaluation Evaluate(double k) =>
        new(CrossEntropy(k), Rows == 0 ? double.NaN : (double)_correct / Rows, Rows);
}
