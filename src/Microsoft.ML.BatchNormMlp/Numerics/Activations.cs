using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Microsoft.ML.BatchNormMlp.Numerics;

/// <summary>An element-wise nonlinearity that a kernel can fuse after its main work.</summary>
internal enum FusedActivation
{
    /// <summary>Identity.</summary>
    None,
    /// <summary>tanh; its backward uses the saved output: dz = dy·(1 − y²).</summary>
    Tanh,
    /// <summary>max(0, z); its backward uses the saved output: dz = y &gt; 0 ? dy : 0.</summary>
    Relu,
}

/// <summary>
/// Activation forward and backward on whole [B, H] buffers (one call per buffer, not per row: per-call overhead
/// dominates on rows of 10..200 floats). Backward needs only the forward's output y, which layers keep anyway.
/// </summary>
internal static class Activations
{
    /// <summary>y = act(x) element-wise; x and y may be the same buffer. tanh is <see cref="Numerics.Tanh"/>.</summary>
    public static void Forward(FusedActivation activation, ReadOnlySpan<float> x, Span<float> y)
        => Forward(activation, x, y, SimdLevels.Best);

    internal static void Forward(FusedActivation activation, ReadOnlySpan<float> x, Span<float> y, SimdLevel level)
    {
        Check(y.Length, x.Length, nameof(y));
        switch (activation)
        {
            case FusedActivation.Tanh: Tanh.Apply(x, y, level); break;
            case FusedActivation.Relu: TensorPrimitives.Max(x, 0f, y[..x.Length]); break;
            default: x.CopyTo(y); break; // CopyTo handles overlap (x == y)
        }
    }

    /// <summary>dx (+)= dy · act'(from y) element-wise, over dy's length; dx may be dy itself when not accumulating.</summary>
    public static void Backward(FusedActivation activation, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, bool accumulate = false)
        => Backward(activation, y, dy, dx, accumulate, SimdLevels.Best);

    internal static void Backward(FusedActivation activation, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, bool accumulate, SimdLevel level)
    {
        Check(y.Length, dy.Length, nameof(y));
        Check(dx.Length, dy.Length, nameof(dx));
        int n = dy.Length, i = 0;
        ref float ry = ref MemoryMarshal.GetReference(y), rdy = ref MemoryMarshal.GetReference(dy), rdx = ref MemoryMarshal.GetReference(dx);
        if (level == SimdLevel.Vector512)
        {
            var one = Vector512<float>.One;
            for (; i + 16 <= n; i += 16)
            {
                var vy = Vector512.LoadUnsafe(ref ry, (nuint)i);
                var g = Vector512.LoadUnsafe(ref rdy, (nuint)i);
                g = activation switch
                {
                    FusedActivation.Tanh => g * (one - vy * vy),
                    FusedActivation.Relu => Vector512.ConditionalSelect(Vector512.GreaterThan(vy, Vector512<float>.Zero), g, Vector512<float>.Zero),
                    _ => g,
                };
                if (accumulate) g += Vector512.LoadUnsafe(ref rdx, (nuint)i);
                g.StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float vy = Unsafe.Add(ref ry, i), g = Unsafe.Add(ref rdy, i);
            g = activation switch { FusedActivation.Tanh => g * (1 - vy * vy), FusedActivation.Relu => vy > 0 ? g : 0, _ => g };
            if (accumulate) g += Unsafe.Add(ref rdx, i);
            Unsafe.Add(ref rdx, i) = g;
        }
    }

    /// <summary>
    /// y = act_g(x) where every row of <paramref name="width"/> values splits into <c>groups.Length</c> equal
    /// consecutive slices and slice g applies <c>groups[g]</c> (a network with <see cref="MlpConfig.ActivationGroups"/>);
    /// x and y may be the same buffer.
    /// </summary>
    public static void Forward(ReadOnlySpan<FusedActivation> groups, ReadOnlySpan<float> x, Span<float> y, int width)
    {
        Check(y.Length, x.Length, nameof(y));
        int slice = GroupWidth(groups.Length, width, x.Length);
        for (int at = 0; at < x.Length; at += width)
            for (int g = 0; g < groups.Length; g++)
                Forward(groups[g], x.Slice(at + g * slice, slice), y.Slice(at + g * slice, slice));
    }

    /// <summary>dx (+)= dy · act_g'(from y), with the groups of <see cref="Forward(ReadOnlySpan{FusedActivation}, ReadOnlySpan{float}, Span{float}, int)"/>; dx may be dy itself when not accumulating.</summary>
    public static void Backward(ReadOnlySpan<FusedActivation> groups, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int width, bool accumulate = false)
    {
        Check(y.Length, dy.Length, nameof(y));
        Check(dx.Length, dy.Length, nameof(dx));
        int slice = GroupWidth(groups.Length, width, dy.Length);
        for (int at = 0; at < dy.Length; at += width)
            for (int g = 0; g < groups.Length; g++)
                Backward(groups[g], y.Slice(at + g * slice, slice), dy.Slice(at + g * slice, slice), dx.Slice(at + g * slice, slice), accumulate);
    }

    private static int GroupWidth(int groups, int width, int length)
    {
        if (groups <= 0 || width <= 0 || width % groups != 0 || length % width != 0)
            throw new ArgumentException($"{length} values in rows of {width} do not split into {groups} equal activation groups.");
        return width / groups;
    }

    private static void Check(int actual, int required, string name)
    {
        if (actual < required)
            throw new ArgumentException($"Span '{name}' holds {actual} floats but needs {required}.", name);
    }
}
