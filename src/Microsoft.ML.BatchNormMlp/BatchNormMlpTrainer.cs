using Microsoft.ML.BatchNormMlp.Featurization;
using Microsoft.ML.BatchNormMlp.MlNet;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;
using Microsoft.ML.Data;
using static Microsoft.ML.BatchNormMlp.MlNet.SchemaShapes;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// Trains a BatchNorm MLP on context-window rows: the multiclass trainer
/// <c>mlContext.MulticlassClassification.Trainers.BatchNormMlp(...)</c>. <see cref="Fit(IDataView)"/> reads the rows
/// once into the engine's arrays, trains, and returns a <see cref="BatchNormMlpTransformer"/> that writes ML.NET's
/// multiclass columns, so <c>mlContext.MulticlassClassification.Evaluate</c> works on its output.
/// </summary>
/// <remarks>
/// Reads: <see cref="Options.FeatureColumnName"/> (a known-size vector of keys: the previous symbols) and
/// <see cref="Options.LabelColumnName"/> (a key: the next symbol), both over the same vocabulary (their KeyValues
/// annotations), as the context-window featurizer writes them. The context length and vocabulary come from these
/// columns. Writes (through the transformer): <c>Score</c> (the probability of each symbol id) and
/// <c>PredictedLabel</c> (the key of the most probable one).
/// </remarks>
public sealed partial class BatchNormMlpTrainer : IEstimator<BatchNormMlpTransformer>
{
    private readonly Options _options;

    internal BatchNormMlpTrainer(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        _options.Validate();
    }

    /// <summary>A copy of the options this trainer uses.</summary>
    public Options TrainerOptions => _options.Clone();

    /// <summary>Trains on <paramref name="input"/>, reporting the validation loss on <see cref="Options.ValidationData"/> if set.</summary>
    /// <exception cref="ArgumentException">A column is missing, of the wrong type or of another vocabulary; the data is empty or holds a missing key (the message names the column and row).</exception>
    /// <exception cref="InvalidOperationException">Training diverged (a NaN or infinite loss); the message names the step and the first layer that overflowed.</exception>
    /// <exception cref="OperationCanceledException"><see cref="Options.CancellationToken"/> was cancelled.</exception>
    public BatchNormMlpTransformer Fit(IDataView input) => Fit(input, _options.ValidationData);

    /// <summary>
    /// Initializes a network for the data's vocabulary and context length and trains it; deterministic for a seed
    /// and thread count. Every check runs before the first step: the columns, then every row of both data sets.
    /// </summary>
    /// <param name="trainData">The rows to train on.</param>
    /// <param name="validationData">Rows to report the validation loss on, with the same columns and vocabulary; optional.</param>
    /// <exception cref="ArgumentException">A column is missing, of the wrong type or of another vocabulary; the data is empty or holds a missing key (the message names the column and row).</exception>
    /// <exception cref="InvalidOperationException">Training diverged (a NaN or infinite loss); the message names the step and the first layer that overflowed.</exception>
    /// <exception cref="OperationCanceledException"><see cref="Options.CancellationToken"/> was cancelled.</exception>
    public BatchNormMlpTransformer Fit(IDataView trainData, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        var train = KeyRows.Read(trainData, _options.FeatureColumnName, _options.LabelColumnName, expected: null, "training");
        CharacterDataset? validation = null;
        if (validationData is not null)
        {
            validation = KeyRows.Read(validationData, _options.FeatureColumnName, _options.LabelColumnName, train, "validation");
            if (validation.Count == 0) validation = null;
        }
        var model = Train(train, validation);
        return new BatchNormMlpTransformer(model, _options.FeatureColumnName);
    }

    /// <summary>The engine's training run on rows already read (the CLI and tests come in here too).</summary>
    internal BatchNormCharacterModel Train(CharacterDataset trainingData, CharacterDataset? validationData)
    {
        var vocabulary = trainingData.Vocabulary;
        if (trainingData.Count < 2)
            throw new ArgumentException($"The training set has {trainingData.Count} rows; at least 2 are needed.", nameof(trainingData));
        var (config, init, training, seed) = _options.Resolve(vocabulary.Count, trainingData.ContextLength, null, CharacterModelDefaults.Threads);
        var network = new MlpNetwork(config);
        Initialization.Initialize(network, init, new Rng(seed));
        using var trainer = new Trainer(network, training);   // the engine comes from training.Engine / Device (TrainingEngines)
        TrainingResult result;
        try
        {
            var progress = _options.Progress;
            result = trainer.Train(trainingData.Rows, validationData?.Rows, progress is null ? null : new ProgressAdapter(progress), _options.CancellationToken);
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

    /// <summary>The input's columns plus <c>Score</c> (a vector of probabilities) and <c>PredictedLabel</c> (a key).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing.</exception>
    /// <exception cref="ArgumentException">A column has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        KeyRows.CheckShape(inputSchema, _options.FeatureColumnName, vector: true);
        KeyRows.CheckShape(inputSchema, _options.LabelColumnName, vector: false);
        return BatchNormMlpTransformer.OutputShape(inputSchema, _options.FeatureColumnName);
    }

    private sealed class ProgressAdapter(IProgress<TrainingProgressReport> target) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p) =>
            target.Report(new TrainingProgressReport(p.Step, p.TotalSteps, p.Loss, p.LearningRate, p.StepsPerSecond, p.ValidationLoss));
    }
}
