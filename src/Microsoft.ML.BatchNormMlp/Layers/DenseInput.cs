namespace Microsoft.ML.BatchNormMlp.Layers;

/// <summary>
/// The input path for float feature rows (MNIST-1D): the rows are used as they are, no parameters. It only checks
/// the shape and that every value is finite, so that a bad input is reported by row and column rather than as a
/// non-finite loss later.
/// </summary>
internal static class DenseInput
{
    public static void Check(ReadOnlySpan<float> x, int batch, int width) // x [B, F]
    {
        if (x.Length < batch * width)
            throw new ArgumentException($"The batch holds {x.Length} floats but {batch} rows of width {width} need {batch * width}.", nameof(x));
        for (int i = 0; i < batch * width; i++)
            if (!float.IsFinite(x[i]))
                throw new ArgumentException($"Input row {i / width}, column {i % width} is {x[i]}; inputs must be finite.", nameof(x));
    }
}
