namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// How large one step's update is against a parameter: log10(learning rate · std(gradient) / (std(parameter) + 1e-5)),
/// the third seed's <c>ud</c> (a rule of thumb wants about -3).
/// </summary>
/// <param name="Parameter">The tensor's name, e.g. <c>hidden.0.linear.weight</c>.</param>
/// <param name="Dimensions">The tensor's rank: 2 for weight matrices and the embedding, 1 for biases and BatchNorm scales.</param>
/// <param name="Log10">The ratio's base-10 logarithm.</param>
public readonly record struct UpdateRatio(string Parameter, int Dimensions, double Log10);
