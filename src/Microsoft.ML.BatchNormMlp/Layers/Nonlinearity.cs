using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Microsoft.ML.BatchNormMlp.Layers;

/// <summary>The element-wise function applied after a normalization; Identity for the output BatchNorm.</summary>
internal enum Nonlinearity { Identity, Tanh, Relu }

/// <summary>Tanh and ReLU, forward in place and backward from the saved output (both derivatives are functions of y).</summary>
internal static class NonlinearityKernels
{
    public static Nonlinearity From(Activation activation) => activation switch
    {
        Activation.Tanh => Nonlinearity.Tanh,
        Activation.Relu => Nonlinearity.Relu,
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };

    /// <summary>y = f(y) in place.</summary>
    public static void Apply(Nonlinearity f, Span<float> y)
    {
        switch (f)
        {
            case Nonlinearity.Tanh: TensorPrimitives.Tanh(y, y); break;
            case Nonlinearity.Relu: TensorPrimitives.Max(y, 0f, y); break;
        }
    }

    /// <summary>dx = dy · f'(x), where f' is computed from the output y = f(x): 1 - y² for tanh, [y &gt; 0] for ReLU.</summary>
    public static void Backward(Nonlinearity f, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int n = dx.Length;
        ref float py = ref MemoryMarshal.GetReference(y);
        ref float pdy = ref MemoryMarshal.GetReference(dy);
        ref float pdx = ref MemoryMarshal.GetReference(dx);
        if (y.Length < n || dy.Length < n) throw new ArgumentException("Spans are shorter than the gradient.");
        int i = 0;
        switch (f)
        {
            case Nonlinearity.Identity:
                dy[..n].CopyTo(dx);
                return;
            case Nonlinearity.Tanh:
                for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
                {
                    var v = Vector.LoadUnsafe(ref py, (nuint)i);
                    var g = Vector.LoadUnsafe(ref pdy, (nuint)i);
                    (g - g * v * v).StoreUnsafe(ref pdx, (nuint)i);
                }
                for (; i < n; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
                return;
            case Nonlinearity.Relu:
                for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
                {
                    var v = Vector.LoadUnsafe(ref py, (nuint)i);
                    var g = Vector.LoadUnsafe(ref pdy, (nuint)i);
                    Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), g, Vector<float>.Zero).StoreUnsafe(ref pdx, (nuint)i);
                }
                for (; i < n; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
                return;
        }
    }
}
