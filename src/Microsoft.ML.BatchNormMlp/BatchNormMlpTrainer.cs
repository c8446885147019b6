using Microsoft.ML.BatchNormMlp.Featurization;
using Microsoft.ML.BatchNormMlp.MlNet;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;
using Microsoft.ML.BatchNormMlp.Training.Diagnostics;
using Microsoft.ML.Data;
using static Microsoft.ML.BatchNormMlp.MlNet.SchemaShapes;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// Trains a BatchNorm MLP: the multiclass trainer <c>mlContext.MulticlassClassification.Trainers.BatchNormMlp(...)</c>.
/// <see cref="Fit(IDataView)"/> reads the rows once into the engine's arrays, trains, and returns a
/// <see cref="BatchNormMlpTransformer"/> that writes ML.NET's multiclass columns, so
/// <c>mlContext.MulticlassClassification.Evaluate</c> works on its output.
/// </summary>
/// <remarks>
/// <para>
/// Character models (the default): <see cref="Options.FeatureColumnName"/> is a known-size vector of keys (the
/// previous symbols) and <see cref="Options.LabelColumnName"/> a key (the next symbol), both over the same
/// vocabulary (their KeyValues annotations), as the context-window featurizer writes them. The context length and
/// vocabulary come from these columns; the transformer's <see cref="BatchNormMlpTransformer.Model"/> is the
/// <see cref="CharacterModel"/>.
/// </para>
/// <para>
/// Dense features: when <see cref="Options.FeatureColumnName"/> is a known-size vector of Single (e.g. MNIST-1D's
/// 40 floats, or ML.NET's <c>Features</c>), the trainer fits a classifier of those vectors into the label key's
/// classes (key value c + 1 is class c), with any preset, including the MNIST-1D ones
/// (<see cref="CharacterModelDefaults.DenseInputPresets"/>). The width and the class count come from the columns.
/// </para>
/// <para>
/// The transformer writes <c>Score</c> (the probability of each symbol id or class) and <c>PredictedLabel</c>
/// (the key of the most probable one).
/// </para>
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
    /// <exception cref="ArgumentException">A column is missing, of the wrong type or of another vocabulary; the data is empty or holds a missing key or a non-finite feature (the message names the column and row); or the preset does not fit the feature column.</exception>
    /// <exception cref="InvalidOperationException">Training diverged (a NaN or infinite loss); the message names the step and the first layer that overflowed.</exception>
    /// <exception cref="OperationCanceledException"><see cref="Options.CancellationToken"/> was cancelled.</exception>
    public BatchNormMlpTransformer Fit(IDataView input) => Fit(input, _options.ValidationData);

    /// <summary>
    /// Initializes a network for the data's vocabulary and context length (or feature width and classes) and trains
    /// it; deterministic for a seed and thread count. Every check runs before the first step: the columns, then every
    /// row of both data sets.
    /// </summary>
    /// <param name="trainData">The rows to train on.</param>
    /// <param name="validationData">Rows to report the validation loss on, with the same columns and vocabulary (or width and classes); optional.</param>
    /// <exception cref="ArgumentException">A column is missing, of the wrong type or of another vocabulary; the data is empty or holds a missing key or a non-finite feature (the message names the column and row); or the preset does not fit the feature column.</exception>
    /// <exception cref="InvalidOperationException">Training diverged (a NaN or infinite loss); the message names the step and the first layer that overflowed.</exception>
    /// <exception cref="OperationCanceledException"><see cref="Options.CancellationToken"/> was cancelled.</exception>
    public BatchNormMlpTransformer Fit(IDataView trainData, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        if (trainData.Schema.GetColumnOrNull(_options.FeatureColumnName) is { } features && DenseRows.IsFeatureVector(features))
            return FitDense(trainData, validationData);
        var train = KeyRows.Read(trainData, _options.FeatureColumnName, _options.LabelColumnName, expected: null, "training");
        CharacterDataset? validation = null;
        if (validationData is not null)
        {
            validation = KeyRows.Read(validationData, _options.FeatureColumnName, _options.LabelColumnName, train, "validation");
            if (validation.Count == 0) validation = null;
        }
        var model = Train(train, validation);
        return new BatchNormMlpTransformer(model, _options.FeatureColumnName, model.Training);
    }

    private BatchNormMlpTransformer FitDense(IDataView trainData, IDataView? validationData)
    {
        var (train, classes) = DenseRows.Read(trainData, _options.FeatureColumnName, _options.LabelColumnName, expected: null, "training");
        Dataset? validation = null;
        if (validationData is not null)
        {
            validation = DenseRows.Read(validationData, _options.FeatureColumnName, _options.LabelColumnName, (train.RowWidth, classes), "validation").Rows;
            if (validation.Count == 0) validation = null;
        }
        if (train.Count < 2)
            throw new ArgumentException($"The training set has {train.Count} rows; at least 2 are needed.", nameof(trainData));
        var (config, init, training, seed) = _options.ResolveDense(train.RowWidth, classes, CharacterModelDefaults.Threads);
        var (network, summary) = Run(config, init, training, seed, train, validation);
        return new BatchNormMlpTransformer(DenseClassifier.FromNetwork(network), _options.FeatureColumnName, summary);
    }

    /// <summary>The engine's training run on rows already read (the CLI and tests come in here too).</summary>
    internal BatchNormCharacterModel Train(CharacterDataset trainingData, CharacterDataset? validationData)
    {
        var vocabulary = trainingData.Vocabulary;
        if (trainingData.Count < 2)
            throw new ArgumentException($"The training set has {trainingData.Count} rows; at least 2 are needed.", nameof(trainingData));
        var (config, init, training, seed) = _options.Resolve(vocabulary.Count, trainingData.ContextLength, null, CharacterModelDefaults.Threads);
        var (network, summary) = Run(config, init, training, seed, trainingData.Rows, validationData?.Rows);
        return new BatchNormCharacterModel(network, vocabulary, summary);
    }

    // Initializes the network, trains it (with the diagnostics recorder when asked) and summarizes the run.
    private (MlpNetwork Network, TrainingSummary Summary) Run(MlpConfig config, InitOptions init, TrainingOptions training, ulong seed, Dataset train, Dataset? validation)
    {
        if (training.EnsembleMembers > 1) return RunEnsemble(config, init, training, seed, train, validation);
        var network = new MlpNetwork(config);
        Initialization.Initialize(network, init, new Rng(seed));
        var recorder = _options.Diagnostics is { } d ? new DiagnosticsRecorder(d) : null;
        using var trainer = new Trainer(network, training) { Observer = recorder };   // the engine comes from training.Engine / Device (TrainingEngines)
        TrainingResult result;
        try
        {
            var progress = _options.Progress;
            result = trainer.Train(train, validation, progress is null ? null : new ProgressAdapter(progress), _options.CancellationToken);
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
        var summary = new TrainingSummary(_options.Preset, result.Steps, result.LastBatchLoss, result.ValidationLoss, result.StepsPerSecond, result.Elapsed)
        {
            Diagnostics = recorder?.ToResult(),
        };
        return (network, summary);
    }

    // The members train at once (EnsembleTraining); progress reports come from member 0, which trains first.
    private (MlpNetwork Network, TrainingSummary Summary) RunEnsemble(MlpConfig config, InitOptions init, TrainingOptions training, ulong seed, Dataset train, Dataset? validation)
    {
        if (_options.Diagnostics is not null)
            throw new ArgumentException($"{nameof(Options.Diagnostics)} record one network's training; they do not combine with {nameof(Options.EnsembleMembers)} = {training.EnsembleMembers}. Set {nameof(Options.EnsembleMembers)} = 1.");
        var progress = _options.Progress;
        EnsembleTraining.Result result;
        try
        {
            result = EnsembleTraining.Train(config, init, training, seed, train, validation,
                progress is null ? null : m => m == 0 ? new ProgressAdapter(progress) : null, cancellation: _options.CancellationToken);
        }
        catch (NonFiniteLossException ex)
        {
            throw new InvalidOperationException(ex.Message, ex);
        }
        result.Network.Threads = 1;
        var r = result.Summary;
        return (result.Network, new TrainingSummary(_options.Preset, r.Steps, r.LastBatchLoss, r.ValidationLoss, r.StepsPerSecond, r.Elapsed));
    }

    /// <summary>The input's columns plus <c>Score</c> (a vector of probabilities) and <c>PredictedLabel</c> (a key).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing.</exception>
    /// <exception cref="ArgumentException">A column has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        bool dense = inputSchema.Any(c => c.Name == _options.FeatureColumnName && !c.IsKey
            && c.Kind == SchemaShape.Column.VectorKind.Vector && c.ItemType == NumberDataViewType.Single);
        if (!dense) KeyRows.CheckShape(inputSchema, _options.FeatureColumnName, vector: true);
        KeyRows.CheckShape(inputSchema, _options.LabelColumnName, vector: false);
        return BatchNormMlpTransformer.OutputShape(inputSchema, dense);
    }

    private sealed class ProgressAdapter(IProgress<TrainingProgressReport> target) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p) =>
            target.Report(new TrainingProgressReport(p.Step, p.TotalSteps, p.Loss, p.LearningRate, p.StepsPerSecond, p.ValidationLoss));
    }
}
