using System.Runtime.Intrinsics;

namespace Microsoft.ML.BatchNormMlp.Numerics;

/// <summary>
/// Which vector width a kernel runs with. Production code uses <see cref="SimdLevels.Best"/>; tests force the
/// narrower paths so that every path runs on an AVX-512 machine.
/// </summary>
internal enum SimdLevel
{
    /// <summary>Plain scalar loops (with <see cref="MathF.FusedMultiplyAdd"/>, so results equal the vector paths).</summary>
    Scalar,
    /// <summary>256-bit vectors (AVX2, or whatever the runtime maps Vector256 to).</summary>
    Vector256,
    /// <summary>512-bit vectors (AVX-512).</summary>
    Vector512,
}

internal static class SimdLevels
{
    /// <summary>The widest level the hardware accelerates.</summary>
    public static readonly SimdLevel Best =
        Vector512.IsHardwareAccelerated ? SimdLevel.Vector512
        : Vector256.IsHardwareAccelerated ? SimdLevel.Vector256
        : SimdLevel.Scalar;

    /// <summary>The levels this machine can run, narrowest first (tests iterate them).</summary>
    public static SimdLevel[] Supported() =>
        Best switch
        {
            SimdLevel.Vector512 => [SimdLevel.Scalar, SimdLevel.Vector256, SimdLevel.Vector512],
            SimdLevel.Vector256 => [SimdLevel.Scalar, SimdLevel.Vector256],
            _ => [SimdLevel.Scalar],
        };
}
