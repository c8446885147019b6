using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Training;
using TorchSharp;
using TorchSharp.Modules;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Microsoft.ML.BatchNormMlp.Engines.TorchSharp;

/// <summary>
/// The TorchSharp engine: the network as TorchSharp modules (<see cref="TorchMlp"/>), torch.optim.SGD, Adam or AdamW,
/// and <c>nn.functional.cross_entropy</c>, on the CPU or a CUDA device, in float32. Modules, optimizer, the weights'
/// moving average (<see cref="TorchWeightAverage"/>) and the host-side batch tensors are built once; each step runs
/// in its own dispose scope, so its temporaries are freed when it ends. The weights come from the
/// <see cref="MlpNetwork"/> at <see cref="Begin"/> (so initialization is the managed code's), and so does dropout
/// (<see cref="MlpNetwork.SetDropout"/>: its rate and the run's mask stream, <see cref="TorchDropout"/>); they go back
/// at <see cref="Synchronize"/>, when the module has changed since. On the CPU the loss is read every step (no device
/// to wait for); on CUDA only when asked, so a step never waits for the device otherwise.
/// </summary>
internal sealed class TorchSharpEngine : ITrainingEngine
{
    private readonly MlpNetwork _network;
    private readonly TrainingOptions _options;
    private readonly Device _device;
    private readonly TorchMlp _module;
    private readonly optim.Optimizer _optimizer;
    private readonly Dictionary<string, Tensor> _tensors;                   // the module's state dict, by TensorLayout name
    private readonly (string Name, int[] Shape)[] _parameters;              // the optimizer's parameters, in MlpNetwork.Parameters order
    private readonly TorchWeightAverage? _average;                          // with TrainingOptions.EmaDecay
    private Tensor? _hostInput, _hostLabels, _deviceInput, _deviceLabels;  // [maxBatch, width] int64 or float32; [maxBatch] int64
    private int _maxBatch;
    private DisposeScope? _step;                                            // the current step's temporaries
    private Tensor? _loss;
    private double _learningRate = double.NaN;
    private int _optimizerSteps;
    private bool _changed;                                                  // the module holds state the network does not (since Begin or Synchronize)

    public TorchSharpEngine(MlpNetwork network, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(network); ArgumentNullException.ThrowIfNull(options);
        // Before libtorch loads: a merged network of mixed activations is for inference; its members are what trains.
        if (network.Config.ActivationGroups is not null)
            throw new EngineUnavailableException("The torchsharp engine trains networks of one activation; this one has activation groups (a merged ensemble): train its members, or use the managed engine.");
        _network = network;
        _options = options;
        _device = TorchRuntime.Initialize(TrainingDevice.Parse(options.Device, nameof(options.Device)));
        TorchRuntime.SetThreads(options.Threads);
        _module = new TorchMlp(network, _device);
        _tensors = _module.state_dict();
        foreach (var t in network.Tensors)
            if (!_tensors.TryGetValue(t.Name, out var mine) || !mine.shape.SequenceEqual(t.Shape.Select(d => (long)d)))
                throw new InvalidOperationException($"TorchMlp has no tensor '{t.Name}' {t.ShapeText}: it and MlpNetwork must be changed together.");
        _parameters = network.Parameters.Select(p => (p.Name, p.Shape)).ToArray();
        var named = _module.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        var parameters = _parameters.Select(p => named[p.Name]).ToArray();
        if (parameters.Length != named.Count) throw new InvalidOperationException("TorchMlp holds parameters MlpNetwork does not.");
        double lr = options.LearningRate.At(0, Math.Max(options.Steps, 1));
        _optimizer = options.Optimizer switch
        {
            OptimizerKind.Sgd => optim.SGD(parameters, lr, momentum: options.Momentum, weight_decay: options.WeightDecay),
            OptimizerKind.Adam => optim.Adam(parameters, lr, beta1: options.AdamBeta1, beta2: options.AdamBeta2, eps: options.AdamEpsilon, weight_decay: options.WeightDecay),
            // Every parameter decays (embeddings, BatchNorm's gains and shifts, biases), as in the managed AdamW; torch's default decay (0.01) is overridden.
            OptimizerKind.AdamW => optim.AdamW(parameters, lr, beta1: options.AdamBeta1, beta2: options.AdamBeta2, eps: options.AdamEpsilon, weight_decay: options.WeightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer, "Unknown optimizer."),
        };
        _learningRate = lr;
        if (options.EmaDecay > 0) _average = new TorchWeightAverage(network.Parameters, parameters, options.EmaDecay);
    }

    public TrainingEngine Kind => TrainingEngine.TorchSharp;

    public bool ReadsLossEveryStep => _device.type == DeviceType.CPU;

    public int OptimizerSteps => _optimizerSteps;

    /// <summary>The torch device the run computes on.</summary>
    public Device Device => _device;

    public IWeightAverage? Average => _average;

    /// <summary>
    /// Test hook: dropout masks drawn on the host by the managed layer's code from the run's stream, in the managed
    /// engine's order (<see cref="TorchDropout.ManagedMasks"/>), so that both engines drop the same units. Off: libtorch's masks.
    /// </summary>
    internal bool ManagedDropoutMasks
    {
        get => _module.Dropout.ManagedMasks;
        set => _module.Dropout.ManagedMasks = value;
    }

    public void Begin(int maxBatch)
    {
        TorchRuntime.SetThreads(_options.Threads);
        foreach (var t in _network.Tensors) TorchTensors.CopyIn(_tensors[t.Name], t.Data);
        _changed = false;
        _module.Dropout.Configure(_network.Dropout, _network.DropoutGenerator);
        _module.train();
        if (maxBatch > _maxBatch) AllocateBatch(maxBatch);
    }

    private void AllocateBatch(int maxBatch)
    {
        foreach (var t in new[] { _hostInput, _hostLabels, _deviceInput, _deviceLabels }) t?.Dispose();
        var c = _network.Config;
        bool cuda = _device.type != DeviceType.CPU;
        _hostInput = c.IsDense ? zeros(maxBatch, c.DenseInputWidth, ScalarType.Float32) : zeros(maxBatch, c.ContextLength, ScalarType.Int64);
        _hostLabels = zeros(maxBatch, ScalarType.Int64);
        if (cuda)
        {
            // Pinned host memory lets the copies to the device run without staging.
            var (input, labels) = (_hostInput, _hostLabels);
            _hostInput = input.pin_memory(); _hostLabels = labels.pin_memory();
            input.Dispose(); labels.Dispose();
            _deviceInput = _hostInput.to(_device); _deviceLabels = _hostLabels.to(_device);
        }
        else { _deviceInput = _hostInput; _deviceLabels = _hostLabels; }
        foreach (var t in new[] { _hostInput, _hostLabels, _deviceInput, _deviceLabels }) t.DetachFromDisposeScope();
        _maxBatch = maxBatch;
    }

    public double Forward(NetworkInput input, ReadOnlySpan<int> labels, int rows, bool readLoss)
    {
        if (rows > _maxBatch || _hostInput is null) throw new InvalidOperationException($"Forward of {rows} rows after Begin({_maxBatch}).");
        var c = _network.Config;
        int width = c.IsDense ? c.DenseInputWidth : c.ContextLength;
        // The batch goes straight into the host tensors' memory: no managed allocation per step.
        if (c.IsDense) input.FeatureValues[..(rows * width)].CopyTo(MemoryMarshal.Cast<byte, float>(_hostInput.bytes));
        else
        {
            var ids = MemoryMarshal.Cast<byte, long>(_hostInput.bytes)[..(rows * width)];
            var source = input.IdValues[..(rows * width)];
            for (int i = 0; i < ids.Length; i++) ids[i] = source[i];
        }
        var target = MemoryMarshal.Cast<byte, long>(_hostLabels!.bytes);
        for (int i = 0; i < rows; i++) target[i] = labels[i];

        _step?.Dispose();
        _step = NewDisposeScope();
        Tensor x = _deviceInput!, y = _deviceLabels!;
        if (_device.type != DeviceType.CPU)
        {
            _deviceInput!.narrow(0, 0, rows).copy_(_hostInput.narrow(0, 0, rows), true);   // non-blocking from pinned memory
            _deviceLabels!.narrow(0, 0, rows).copy_(_hostLabels!.narrow(0, 0, rows), true);
        }
        if (rows < _maxBatch) { x = x.narrow(0, 0, rows); y = y.narrow(0, 0, rows); }
        _module.Dropout.BeginStep();
        _changed = true;   // BatchNorm's running statistics move
        var logits = _module.forward(x);
        _loss = nn.functional.cross_entropy(logits, y);
        return readLoss || ReadsLossEveryStep ? _loss.item<float>() : double.NaN;
    }

    /// <summary>Backward through the last <see cref="Forward"/>: every parameter's gradient, without updating (the tests compare them).</summary>
    public void Backward()
    {
        var loss = _loss ?? throw new InvalidOperationException("Backward needs a Forward first.");
        _optimizer.zero_grad();
        loss.backward();
    }

    /// <summary>The optimizer step at <paramref name="learningRate"/> from the gradients of <see cref="Backward"/>; ends the step's scope.</summary>
    public void Update(float learningRate)
    {
        if (learningRate != _learningRate)
        {
            foreach (var group in _optimizer.ParamGroups) group.LearningRate = learningRate;
            _learningRate = learningRate;
        }
        _optimizer.step();
        _optimizerSteps++;
        EndStep();
    }

    public void BackwardAndUpdate(float learningRate, IBackwardObserver? observer)
    {
        if (observer is not null) throw new EngineUnavailableException("Layer gradient observers need the managed engine.");
        Backward();
        Update(learningRate);
    }

    /// <summary>The parameters' gradients of the last <see cref="Backward"/>, by name (zeros where torch left none).</summary>
    public IReadOnlyList<TensorValue> Gradients()
    {
        var list = new List<TensorValue>();
        foreach (var (name, shape) in _parameters)
        {
            var data = new float[shape.Aggregate(1, (a, b) => a * b)];
            if (_tensors[name].grad is { } g) TorchTensors.CopyOut(g, data);
            list.Add(new TensorValue(name, (int[])shape.Clone(), data));
        }
        return list;
    }

    public string? FirstNonFiniteActivation(NetworkInput input, int rows)
    {
        // Locate the layer with the managed forward over the same weights and batch: one diagnosis for both engines.
        Synchronize();
        _network.Forward(input, rows, training: true);
        return _network.FirstNonFiniteActivation();
    }

    /// <summary>
    /// Writes the module's weights and buffers into the network, if any step changed them since <see cref="Begin"/> or
    /// the last synchronisation: what the trainer did to the network after the steps (the average swapped in,
    /// calibration) is not undone by a later synchronisation (a checkpoint taken after <see cref="Trainer.Train"/>).
    /// </summary>
    public void Synchronize()
    {
        if (!_changed) return;
        foreach (var t in _network.Tensors) TorchTensors.CopyOut(_tensors[t.Name], t.Data);
        _changed = false;
    }

    public IReadOnlyList<TensorValue> GetOptimizerState() => TorchOptimizerState.Get(_optimizer, _parameters, _options);

    public void LoadOptimizerState(IReadOnlyList<TensorValue> state, int optimizerSteps)
    {
        TorchOptimizerState.Load(_optimizer, _parameters, _options, state, optimizerSteps, _device);
        _optimizerSteps = optimizerSteps;
    }

    private void EndStep()
    {
        _loss = null;
        _step?.Dispose();
        _step = null;
    }

    public void Dispose()
    {
        EndStep();
        foreach (var t in new[] { _hostInput, _hostLabels, _deviceInput, _deviceLabels }) t?.Dispose();
        _optimizer.Dispose();
        _average?.Dispose();
        _module.Dispose();
    }
}
