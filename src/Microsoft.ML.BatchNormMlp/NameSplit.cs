namespace Microsoft.ML.BatchNormMlp;

/// <summary>The train, dev and test names of a corpus (see <see cref="DataCatalog.SplitNames"/>).</summary>
/// <param name="Train">Names to train on.</param>
/// <param name="Dev">Names to choose hyperparameters and report the validation loss on.</param>
/// <param name="Test">Names held out for the final figure.</param>
public sealed record NameSplit(IReadOnlyList<string> Train, IReadOnlyList<string> Dev, IReadOnlyList<string> Test);
