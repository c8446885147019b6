using System.Buffers;
using System.Numerics.Tensors;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Export;

/// <summary>
/// Inference for a folded network (no BatchNorm left; see <see cref="BatchNormFolding"/>). Immutable after
/// construction and without shared scratch, so one instance serves concurrent predictions; each call rents its
/// buffers and walks its input in chunks of <see cref="ChunkRows"/> rows, so memory stays bounded for any batch.
/// Forward pass (docs/model-format.md):
/// post-activation <c>y = act(h·Wᵀ + b)</c>, <c>h = h + y</c> when residual, i &gt; 0 and widths match, else <c>h = y</c>;
/// pre-activation: stem <c>h = x·W₀ᵀ + b₀</c>, then <c>y = act(h * scale + shift)·Wᵀ + b</c> with the same residual rule;
/// <c>logits = h·W_outᵀ + b_out</c>.
/// </summary>
internal sealed class FoldedMlp
{
    public const int ChunkRows = 256;

    private sealed record Layer(float[] Weight, float[]? Bias, float[]? Scale, float[]? Shift, int Inputs, int Outputs);

    private readonly float[]? _embedding; // [V, E]
    private readonly Layer[] _hidden;
    private readonly Layer _output;
    private readonly int _maxWidth;
    private readonly FusedActivation _activation;
    private readonly FusedActivation[]? _groups;   // MlpConfig.ActivationGroups; null: _activation for every unit

    public FoldedMlp(ModelState folded)
    {
        if (!folded.Folded)
            throw new ArgumentException("FoldedMlp needs a folded model; fold it first with BatchNormFolding.Fold.", nameof(folded));
        ModelValidation.Check(folded, problem => new ArgumentException($"Cannot run the folded model: {problem}.", nameof(folded)));
        var c = folded.Config;
        var t = folded.Tensors;
        foreach (var spec in TensorLayout.ExpectedFolded(c))
            if (!t.TryGetValue(spec.Name, out var data) || data.Length != spec.ElementCount)
                throw new ArgumentException($"Tensor '{spec.Name}' is missing or does not hold {spec.ElementCount} floats.", nameof(folded));

        Model = folded;
        _activation = MlpNetwork.Fused(c.Activation);
        _groups = c.ActivationGroups?.Select(MlpNetwork.Fused).ToArray();
        _embedding = c.IsDense ? null : t["embedding.weight"];
        int width = c.InputWidth;
        _maxWidth = width;
        _hidden = new Layer[c.HiddenWidths.Count];
        for (int i = 0; i < _hidden.Length; i++)
        {
            string p = $"hidden.{i}";
            _hidden[i] = new Layer(t[$"{p}.linear.weight"], t.GetValueOrDefault($"{p}.linear.bias"),
                t.GetValueOrDefault($"{p}.affine.weight"), t.GetValueOrDefault($"{p}.affine.bias"), width, c.HiddenWidths[i]);
            width = c.HiddenWidths[i];
            _maxWidth = Math.Max(_maxWidth, width);
        }
        _output = new Layer(t["output.weight"], t.GetValueOrDefault("output.bias"), null, null, width, c.OutputWidth);
    }

    /// <summary>The folded model this instance runs (config, vocabulary, tensors).</summary>
    public ModelState Model { get; }

    public MlpConfig Config => Model.Config;

    /// <summary>Logits [rows, OutputWidth] for symbol contexts [rows, ContextLength].</summary>
    public float[] Forward(ReadOnlySpan<int> contexts, int rows)
    {
        var logits = new float[rows * Config.OutputWidth];
        Forward(contexts, rows, logits);
        return logits;
    }

    /// <summary>Writes logits [rows, OutputWidth] for symbol contexts [rows, ContextLength].</summary>
    public void Forward(ReadOnlySpan<int> contexts, int rows, Span<float> logits)
    {
        var c = Config;
        if (c.IsDense)
            throw new InvalidOperationException("This model reads dense float rows, not symbol contexts.");
        CheckLengths(contexts.Length, rows * c.ContextLength, logits.Length, rows);
        int v = c.VocabularySize, e = c.EmbeddingWidth, ctx = c.ContextLength;
        var x = ArrayPool<float>.Shared.Rent(ChunkRows * c.InputWidth);
        try
        {
            for (int start = 0; start < rows; start += ChunkRows)
            {
                int n = Math.Min(ChunkRows, rows - start);
                for (int r = 0; r < n; r++)
                    for (int j = 0; j < ctx; j++)
                    {
                        int id = contexts[(start + r) * ctx + j];
                        if ((uint)id >= (uint)v)
                            throw new ArgumentOutOfRangeException(nameof(contexts), $"Row {start + r}, position {j} holds symbol id {id}, outside the vocabulary [0, {v}).");
                        _embedding.AsSpan(id * e, e).CopyTo(x.AsSpan((r * ctx + j) * e, e)); // [n, ctx*E]
                    }
                ForwardChunk(x.AsSpan(0, n * c.InputWidth), n, logits.Slice(start * c.OutputWidth, n * c.OutputWidth));
            }
        }
        finally { ArrayPool<float>.Shared.Return(x); }
    }

    /// <summary>Writes logits [rows, OutputWidth] for dense input rows [rows, DenseInputWidth].</summary>
    public void ForwardDense(ReadOnlySpan<float> features, int rows, Span<float> logits)
    {
        var c = Config;
        if (!c.IsDense)
            throw new InvalidOperationException("This model reads symbol contexts, not dense float rows.");
        CheckLengths(features.Length, rows * c.DenseInputWidth, logits.Length, rows);
        for (int start = 0; start < rows; start += ChunkRows)
        {
            int n = Math.Min(ChunkRows, rows - start);
            ForwardChunk(features.Slice(start * c.DenseInputWidth, n * c.DenseInputWidth), n, logits.Slice(start * c.OutputWidth, n * c.OutputWidth));
        }
    }

    /// <summary>Logits [rows, OutputWidth] for dense input rows [rows, DenseInputWidth].</summary>
    public float[] ForwardDense(ReadOnlySpan<float> features, int rows)
    {
        var logits = new float[rows * Config.OutputWidth];
        ForwardDense(features, rows, logits);
        return logits;
    }

    private void CheckLengths(int input, int needed, int output, int rows)
    {
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "Row count must be non-negative.");
        if (input != needed) throw new ArgumentException($"The input holds {input} values; {rows} rows need {needed}.");
        if (output < rows * Config.OutputWidth) throw new ArgumentException($"The logits span holds {output} floats; {rows} rows need {rows * Config.OutputWidth}.");
    }

    private void ForwardChunk(ReadOnlySpan<float> x, int n, Span<float> logits)
    {
        var c = Config;
        bool post = c.BlockStyle == BlockStyle.PostActivation;
        int size = n * _maxWidth;
        var pool = ArrayPool<float>.Shared;
        float[] a = pool.Rent(size), b = pool.Rent(size), z = pool.Rent(size);
        try
        {
            ReadOnlySpan<float> h = x; // [n, width]
            int width = c.InputWidth;
            float[]? hBuffer = null;
            for (int i = 0; i < _hidden.Length; i++)
            {
                var layer = _hidden[i];
                var y = (hBuffer == a ? b : a).AsSpan(0, n * layer.Outputs); // [n, out]
                if (post)
                {
                    Linear(h, layer, y, n);
                    Activate(y, layer.Outputs);
                }
                else if (i == 0)
                {
                    Linear(h, layer, y, n); // the stem: no norm, no activation
                }
                else
                {
                    var act = z.AsSpan(0, n * width); // [n, in]
                    for (int r = 0; r < n; r++)
                    {
                        var row = act.Slice(r * width, width);
                        if (layer.Scale is not null)
                        {
                            TensorPrimitives.Multiply(h.Slice(r * width, width), layer.Scale, row);
                            TensorPrimitives.Add(row, layer.Shift!, row);
                        }
                        else h.Slice(r * width, width).CopyTo(row);
                    }
                    Activate(act, width);
                    Linear(act, layer, y, n);
                }

                bool residual = c.Residual && i > 0 && layer.Outputs == width;
                if (residual)
                    TensorPrimitives.Add(h, y, y); // h + y, into the buffer that becomes the new stream
                hBuffer = hBuffer == a ? b : a;
                h = y;
                width = layer.Outputs;
            }
            Linear(h, _output, logits, n);
        }
        finally
        {
            pool.Return(a); pool.Return(b); pool.Return(z);
        }
    }

    /// <summary>y[n, out] = x[n, in]·Wᵀ + b (the bias added inside the GEMM's store, not in a pass of its own).</summary>
    private static void Linear(ReadOnlySpan<float> x, Layer layer, Span<float> y, int n) =>
        Gemm.MultiplyNT(x, layer.Weight, y, n, layer.Outputs, layer.Inputs, bias: layer.Bias);

    // The training path's activation kernels (its own tanh, 2.4x TensorPrimitives.Tanh), so folding speeds inference up.
    // v is [n, width]; with activation groups each row's equal slices apply their own.
    private void Activate(Span<float> v, int width)
    {
        if (_groups is null) Activations.Forward(_activation, v, v);
        else Activations.Forward(_groups, v, v, width);
    }
}
