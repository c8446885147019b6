namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// How well a model predicts a data set's next symbols (<see cref="CharacterModel.Evaluate(IDataView, string, string)"/>),
/// or a dense classifier its classes (<see cref="BatchNormMlpTransformer.Evaluate"/>).
/// </summary>
/// <param name="Loss">Mean cross-entropy per row, in nats (the seeds' "loss"), in double precision from the logits and never clipped.</param>
/// <param name="Perplexity"><c>exp(Loss)</c>: the effective number of equally likely next symbols (or classes).</param>
/// <param name="Top1Accuracy">Fraction of rows whose most probable symbol (or class) is the actual one.</param>
/// <param name="Count">Rows evaluated.</param>
public sealed record CharacterModelMetrics(double Loss, double Perplexity, double Top1Accuracy, int Count);
