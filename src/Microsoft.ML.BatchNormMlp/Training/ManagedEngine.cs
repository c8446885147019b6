using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// The managed SIMD engine: <see cref="MlpNetwork"/>'s own forward and backward with the fused softmax
/// cross-entropy and a managed <see cref="Optimizer"/> (by default updating each layer during backward, while its
/// gradient is in cache). The network's arrays are its memory, so nothing is copied; a step allocates nothing.
/// </summary>
internal sealed class ManagedEngine : ITrainingEngine
{
    private readonly MlpNetwork _network;
    private readonly TrainingOptions _options;
    private Workspace? _workspace;   // the last forward's, whose DLogits backward reads

    public ManagedEngine(MlpNetwork network, TrainingOptions options)
    {
        _network = network;
        _options = options;
        Optimizer = options.Optimizer switch
        {
            OptimizerKind.Sgd => new Sgd(network.Parameters, options.Momentum, options.WeightDecay),
            OptimizerKind.Adam => new Adam(network.Parameters, options.AdamBeta1, options.AdamBeta2, options.AdamEpsilon, options.WeightDecay),
            OptimizerKind.AdamW => new Adam(network.Parameters, options.AdamBeta1, options.AdamBeta2, options.AdamEpsilon, options.WeightDecay, decoupled: true),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer, "Unknown optimizer."),
        };
        if (options.EmaDecay > 0) Average = new ExponentialMovingAverage(network.Parameters, options.EmaDecay);
    }

    public Optimizer Optimizer { get; }

    public IWeightAverage? Average { get; }

    public TrainingEngine Kind => TrainingEngine.Managed;

    public bool ReadsLossEveryStep => true;

    public int OptimizerSteps => Optimizer.StepCount;

    public void Begin(int maxBatch) { }   // the network is the engine: Trainer has set its thread count

    public double Forward(NetworkInput input, ReadOnlySpan<int> labels, int rows, bool readLoss)
    {
        var logits = _network.Forward(input, rows, training: true);
        _workspace = _network.GetWorkspace(rows);
        return SoftmaxCrossEntropy.Forward(logits, labels[..rows], _workspace.DLogits, rows, _network.Config.OutputWidth);
    }

    public string? FirstNonFiniteActivation(NetworkInput input, int rows) => _network.FirstNonFiniteActivation();

    public void BackwardAndUpdate(float learningRate, IBackwardObserver? observer)
    {
        var ws = _workspace ?? throw new InvalidOperationException("BackwardAndUpdate needs a Forward first.");
        Optimizer.BeginStep(learningRate);
        _network.Backward(ws.DLogits, _options.FuseOptimizerStep ? Optimizer : null, observer);   // fused: each layer is updated while its gradient is in cache
        if (!_options.FuseOptimizerStep) Optimizer.GradientsReady(0, _network.Parameters.Count);
        Optimizer.EndStep();
    }

    public void Synchronize() { }

    public IReadOnlyList<TensorValue> GetOptimizerState() => Optimizer.GetState();

    public void LoadOptimizerState(IReadOnlyList<TensorValue> state, int optimizerSteps) => Optimizer.LoadState(state, optimizerSteps);

    public void Dispose() { }
}
