namespace Microsoft.ML.BatchNormMlp;

/// <summary>The train, dev and test parts of a names corpus (see <c>mlContext.Data.SplitLikeSeeds</c>).</summary>
/// <param name="TrainSet">Names to train on.</param>
/// <param name="DevSet">Names to choose hyperparameters and report the validation loss on.</param>
/// <param name="TestSet">Names held out for the final figure.</param>
public sealed record TrainDevTestData(IDataView TrainSet, IDataView DevSet, IDataView TestSet);
