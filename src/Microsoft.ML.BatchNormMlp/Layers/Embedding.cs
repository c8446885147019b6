using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Microsoft.ML.BatchNormMlp.Layers;

/// <summary>
/// Looks up each context symbol's vector and concatenates them: ids [B, ctx] become [B, ctx·E]
/// (PyTorch's <c>C[X].view(B, -1)</c>). Backward is sparse: only rows that occurred receive gradient.
/// </summary>
internal sealed class Embedding
{
    public Embedding(string name, int vocabularySize, int width, int contextLength)
    {
        if (vocabularySize <= 0 || width <= 0 || contextLength <= 0)
            throw new ArgumentException($"Embedding '{name}' needs positive sizes (vocabulary {vocabularySize}, width {width}, context {contextLength}).");
        Weight = new Parameter($"{name}.weight", [vocabularySize, width]);
        VocabularySize = vocabularySize;
        Width = width;
        ContextLength = contextLength;
    }

    public Parameter Weight { get; }

    public int VocabularySize { get; }

    public int Width { get; }

    public int ContextLength { get; }

    public int OutputWidth => ContextLength * Width;

    /// <summary>y[b, t·E + e] = W[ids[b, t], e].</summary>
    public void Forward(ReadOnlySpan<int> ids, Span<float> y, int batch) // ids [B, ctx], y [B, ctx·E]
    {
        int count = batch * ContextLength;
        if (ids.Length < count) throw new ArgumentException($"The batch holds {ids.Length} ids but {batch} rows of context {ContextLength} need {count}.", nameof(ids));
        float[] w = Weight.Data;
        for (int p = 0; p < count; p++)
        {
            int id = ids[p];
            if ((uint)id >= (uint)VocabularySize)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Row {p / ContextLength}, context position {p % ContextLength}: symbol id {id} is outside the vocabulary [0, {VocabularySize}).");
            w.AsSpan(id * Width, Width).CopyTo(y.Slice(p * Width, Width));
        }
    }

    /// <summary>Writes dW: zero, then every occurrence adds its slice of dY to its row (repeated ids accumulate).</summary>
    public void Backward(ReadOnlySpan<int> ids, ReadOnlySpan<float> dy, int batch) // dy [B, ctx·E]
    {
        float[] g = Weight.Grad;
        Array.Clear(g);
        int count = batch * ContextLength;
        if (ids.Length < count) throw new ArgumentException($"The batch holds {ids.Length} ids but {batch} rows of context {ContextLength} need {count}.", nameof(ids));
        int width = Width;
        ref float dst = ref MemoryMarshal.GetArrayDataReference(g);
        ref float src = ref MemoryMarshal.GetReference(dy[..(count * width)]);
        for (int p = 0; p < count; p++)
        {
            // The rows are only a few floats wide, so a plain loop beats a call; the check keeps Unsafe in bounds.
            int id = ids[p];
            if ((uint)id >= (uint)VocabularySize) throw new ArgumentOutOfRangeException(nameof(ids), id, $"Symbol id {id} is outside the vocabulary [0, {VocabularySize}).");
            ref float row = ref Unsafe.Add(ref dst, id * width);
            ref float part = ref Unsafe.Add(ref src, p * width);
            for (int e = 0; e < width; e++) Unsafe.Add(ref row, e) += Unsafe.Add(ref part, e);
        }
    }
}
