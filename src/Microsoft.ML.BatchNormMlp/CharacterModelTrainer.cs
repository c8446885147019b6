using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// Trains a character model: an estimator whose <see cref="Fit"/> returns a <see cref="BatchNormCharacterModel"/>.
/// Create it with <see cref="CharacterModelCatalog.Trainer(string, int?, float?)"/> or
/// <see cref="CharacterModelCatalog.Trainer(CharacterModelTrainerOptions)"/>. It keeps its own copy of the options, so
/// changing the caller's options object afterwards does not affect it, and <see cref="Fit"/> never changes them.
/// </summary>
public sealed class CharacterModelTrainer
{
    private readonly CharacterModelTrainerOptions _options;
    private readonly int? _contextSeed;
    private readonly int _contextThreads;

    internal CharacterModelTrainer(CharacterModelTrainerOptions options, int? contextSeed, int contextThreads)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        _options.Validate();
        _contextSeed = contextSeed;
        _contextThreads = contextThreads;
    }

    /// <summary>A copy of the options this trainer uses.</summary>
    public CharacterModelTrainerOptions Options => _options.Clone();

    /// <summary>
    /// Initializes a network for the data's vocabulary and context length and trains it. Deterministic for a
    /// given seed and thread count.
    /// </summary>
    /// <param name="trainingData">Rows to train on (from <see cref="CharacterFeaturizerTransformer.Transform"/>).</param>
    /// <param name="validationData">Rows to report the validation loss on, featurized with the same vocabulary; optional.</param>
    /// <param name="progress">Receives a report every <see cref="CharacterModelTrainerOptions.ProgressInterval"/> steps and after the last.</param>
    /// <param name="cancellationToken">Stops training between two steps with an <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ArgumentException">The data sets disagree on vocabulary or context length, or the training set has fewer than 2 rows.</exception>
    /// <exception cref="InvalidOperationException">Training diverged (a NaN or infinite loss); the message names the step and the first layer that overflowed.</exception>
    public BatchNormCharacterModel Fit(CharacterDataset trainingData, CharacterDataset? validationData = null,
        IProgress<TrainingProgressReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trainingData);
        var vocabulary = trainingData.Vocabulary;
        if (validationData is not null)
        {
            if (validationData.ContextLength != trainingData.ContextLength)
                throw new ArgumentException($"The validation rows hold contexts of {validationData.ContextLength} symbols but the training rows {trainingData.ContextLength}.", nameof(validationData));
            if (!ReferenceEquals(validationData.Vocabulary, vocabulary) && !validationData.Vocabulary.Symbols.SequenceEqual(vocabulary.Symbols))
                throw new ArgumentException("The validation rows were featurized with another vocabulary than the training rows; use the same fitted featurizer for both.", nameof(validationData));
            if (validationData.Count == 0) validationData = null;
        }
        if (trainingData.Count < 2)
            throw new ArgumentException($"The training set has {trainingData.Count} rows; at least 2 are needed.", nameof(trainingData));

        var (config, init, training, seed) = _options.Resolve(vocabulary.Count, trainingData.ContextLength, _contextSeed, _contextThreads);
        var network = new MlpNetwork(config);
        Initialization.Initialize(network, init, new Rng(seed));
        using var trainer = new Trainer(network, training);   // the engine comes from training.Engine / Device (TrainingEngines)
        TrainingResult result;
        try
        {
            result = trainer.Train(trainingData.Rows, validationData?.Rows, progress is null ? null : new ProgressAdapter(progress), cancellationToken);
        }
        catch (NonFiniteLossException ex)
        {
            throw new InvalidOperationException(ex.Message, ex);
        }
        finally
        {
            network.ReleaseWorkspaces();
        }
        network.Threads = 1;
        var summary = new TrainingSummary(_options.Preset, result.Steps, result.LastBatchLoss, result.ValidationLoss, result.StepsPerSecond, result.Elapsed);
        return new BatchNormCharacterModel(network, vocabulary, summary);
    }

    private sealed class ProgressAdapter(IProgress<TrainingProgressReport> target) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p) =>
            target.Report(new TrainingProgressReport(p.Step, p.TotalSteps, p.Loss, p.LearningRate, p.StepsPerSecond, p.ValidationLoss));
    }
}
