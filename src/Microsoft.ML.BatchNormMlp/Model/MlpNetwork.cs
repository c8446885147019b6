using System.Numerics.Tensors;
using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Model;

/// <summary>
/// The network an <see cref="MlpConfig"/> describes: input (embedding or dense rows), hidden blocks in the
/// post-activation or pre-activation style with optional residual streams, and the output Linear with an optional
/// BatchNorm. Semantics (ARCHITECTURE.md):
/// post-activation <c>y = act(bn(linear(h)))</c>, <c>h = h + y</c> when residual, i &gt; 0 and the widths match;
/// pre-activation: layer 0 is the stem <c>h = linear(x)</c>, layer i &gt; 0 is <c>h = h + linear(act(bn(h)))</c>
/// when residual and the widths match (else <c>h = linear(act(bn(h)))</c>); <c>logits = output_norm(output(h))</c>.
/// (The fourth seed's notebook adds the branch to the normalized stream, <c>bn(h) + linear(relu(bn(h)))</c>, with
/// fresh untrained BatchNorms; this follows ARCHITECTURE.md's ResNet v2 form, which keeps the identity path clean.)
/// <para>
/// <see cref="Forward"/> keeps its activations in a <see cref="Workspace"/> of that batch size, and
/// <see cref="Backward"/> reads them. Backward writes (does not accumulate) every parameter's gradient.
/// </para>
/// </summary>
internal sealed class MlpNetwork
{
    private readonly Dictionary<int, Workspace> _workspaces = [];
    private readonly Dictionary<int, Workspace> _forwardOnly = [];
    private readonly FusedActivation _act;
    private readonly FusedActivation[]? _groups;     // per group of hidden units (MlpConfig.ActivationGroups); null: _act for all
    private readonly int[] _inputWidths;
    private readonly bool[] _adds;
    private Workspace? _last;
    private readonly (int First, int Count)[] _hiddenParameters;       // each unit's slice of Parameters, for IGradientSink
    private readonly (int First, int Count) _outputParameters, _outputNormParameters, _embeddingParameters;

    public MlpNetwork(MlpConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Validate(config);
        Config = config;
        _act = Fused(config.Activation);
        _groups = config.ActivationGroups?.Select(Fused).ToArray();
        var tensors = new List<NamedTensor>();
        if (!config.IsDense)
        {
            Embedding = new Embedding("embedding", config.VocabularySize, config.EmbeddingWidth, config.ContextLength);
            tensors.Add(Embedding.Weight);
        }

        int layers = config.HiddenWidths.Count;
        bool pre = config.BlockStyle == BlockStyle.PreActivation;
        Hidden = new Linear[layers];
        Norms = new BatchNorm1d?[layers];
        _inputWidths = new int[layers];
        _adds = new bool[layers];
        int width = config.InputWidth;
        for (int i = 0; i < layers; i++)
        {
            int output = config.HiddenWidths[i];
            _inputWidths[i] = width;
            _adds[i] = config.Residual && i > 0 && output == width;
            Hidden[i] = new Linear($"hidden.{i}.linear", width, output, config.HiddenBias);
            tensors.Add(Hidden[i].Weight);
            if (Hidden[i].Bias is { } b) tensors.Add(b);
            if (config.HiddenBatchNorm && !(pre && i == 0))
            {
                var norm = new BatchNorm1d($"hidden.{i}.norm", pre ? width : output, config.BatchNormEpsilon, config.BatchNormMomentum);
                Norms[i] = norm;
                tensors.AddRange([norm.Weight, norm.Bias, norm.RunningMean, norm.RunningVar]);
            }
            width = output;
        }

        Output = new Linear("output", width, config.OutputWidth, config.OutputBias);
        tensors.Add(Output.Weight);
        if (Output.Bias is { } ob) tensors.Add(ob);
        if (config.OutputBatchNorm)
        {
            OutputNorm = new BatchNorm1d("output_norm", config.OutputWidth, config.BatchNormEpsilon, config.BatchNormMomentum);
            tensors.AddRange([OutputNorm.Weight, OutputNorm.Bias, OutputNorm.RunningMean, OutputNorm.RunningVar]);
        }

        Tensors = tensors;
        var parameters = tensors.OfType<Parameter>().ToArray();
        Parameters = parameters;
        _hiddenParameters = new (int, int)[layers];
        for (int i = 0; i < layers; i++)
            _hiddenParameters[i] = RangeOf(parameters, Hidden[i].Weight, Hidden[i].Bias, Norms[i]?.Weight, Norms[i]?.Bias);
        _outputParameters = RangeOf(parameters, Output.Weight, Output.Bias);
        _outputNormParameters = RangeOf(parameters, OutputNorm?.Weight, OutputNorm?.Bias);
        _embeddingParameters = RangeOf(parameters, Embedding?.Weight);
        Buffers = tensors.Where(t => t is not Parameter).ToArray();
        CheckAgainstLayout();
    }

    public MlpConfig Config { get; }

    public Embedding? Embedding { get; }

    public Linear[] Hidden { get; }

    /// <summary>The BatchNorm of each hidden layer, null where the layer has none (no BN, or the pre-activation stem).</summary>
    public BatchNorm1d?[] Norms { get; }

    public Linear Output { get; }

    public BatchNorm1d? OutputNorm { get; }

    /// <summary>Every tensor in <see cref="TensorLayout.Expected"/> order.</summary>
    public IReadOnlyList<NamedTensor> Tensors { get; }

    public IReadOnlyList<Parameter> Parameters { get; }

    public IReadOnlyList<NamedTensor> Buffers { get; }

    /// <summary>
    /// Dropout on every hidden block in training-mode forward passes (null: none; see <see cref="SetDropout"/>).
    /// Post-activation blocks drop their output before the residual add, <c>h = h + drop(act(bn(linear(h))))</c>;
    /// pre-activation blocks drop the activation their Linear reads, <c>h = h + linear(drop(act(bn(h))))</c> (not
    /// the stem, which has no activation). Evaluation, inference and calibration never drop.
    /// </summary>
    public Dropout? Dropout { get; private set; }

    private Rng? _dropoutRng;

    /// <summary>The stream <see cref="Dropout"/>'s masks come from (the trainer's; null without dropout). The TorchSharp engine seeds its masks from it.</summary>
    public Rng? DropoutGenerator => _dropoutRng;

    /// <summary>
    /// Turns dropout on at <paramref name="rate"/> with masks drawn from <paramref name="rng"/> (the trainer's own
    /// stream, so that masks do not move the minibatch sampler), or off with rate 0 (then bit-identical to a network
    /// that never had it). Turning it on or off drops the cached workspaces: training workspaces hold the masks only when
    /// dropout is on.
    /// </summary>
    public void SetDropout(float rate, Rng? rng)
    {
        var dropout = new Dropout(rate);
        if (!dropout.IsIdentity) ArgumentNullException.ThrowIfNull(rng);
        bool had = Dropout is not null;
        Dropout = dropout.IsIdentity ? null : dropout;
        _dropoutRng = Dropout is null ? null : rng;
        if (had != Dropout is not null) ReleaseWorkspaces();
    }

    /// <summary>Threads handed to every GEMM.</summary>
    public int Threads { get; set; } = 1;

    public int ParameterCount => Parameters.Sum(p => p.Data.Length);

    /// <summary>Width of the stream entering hidden layer i.</summary>
    public int LayerInputWidth(int i) => _inputWidths[i];

    /// <summary>Whether hidden layer i adds its input back (residual and widths match, and not the first layer).</summary>
    public bool AddsResidual(int i) => _adds[i];

    /// <summary>The workspace of a batch size, created on first use and kept (forward-only ones separately).</summary>
    public Workspace GetWorkspace(int batch, bool forwardOnly = false)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "A batch needs at least one row.");
        var cache = forwardOnly ? _forwardOnly : _workspaces;
        if (!cache.TryGetValue(batch, out var ws))
        {
            ws = new Workspace(this, batch, forwardOnly);
            cache.Add(batch, ws);
        }
        return ws;
    }

    /// <summary>The workspace the last forward pass wrote.</summary>
    public Workspace? LastWorkspace => _last;

    /// <summary>Drops cached workspaces (e.g. after evaluating a large set in odd-sized chunks).</summary>
    public void ReleaseWorkspaces() { _workspaces.Clear(); _forwardOnly.Clear(); _last = null; }

    /// <summary>
    /// Runs the batch through the network; returns the logits [B, K] (valid until the next forward of this batch size).
    /// Training mode normalizes with batch statistics and updates the running ones. <paramref name="keepActivations"/>
    /// (default: in training mode) keeps every layer's activations for <see cref="Backward"/>; without it, layers
    /// share buffers.
    /// </summary>
    public ReadOnlySpan<float> Forward(NetworkInput input, int batch, bool training, bool? keepActivations = null)
    {
        var ws = GetWorkspace(batch, forwardOnly: !(keepActivations ?? training));
        _last = ws;
        return Run(ws, input, batch, training, stateless: false, Threads);
    }

    /// <summary>
    /// Evaluation-mode forward into the caller's forward-only <paramref name="workspace"/> of exactly
    /// <paramref name="batch"/> rows, writing no state of the network or its layers: many threads may run it at once
    /// (each with its own workspace) while nothing trains the network. Bit-identical to <see cref="Forward"/> with
    /// <c>training: false</c>. Returns the logits [B, K], valid until the workspace is used again.
    /// </summary>
    public ReadOnlySpan<float> Infer(NetworkInput input, int batch, Workspace workspace, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        if (workspace.Batch != batch || !workspace.ForwardOnly)
            throw new ArgumentException($"Infer needs a forward-only workspace of {batch} rows; got {(workspace.ForwardOnly ? "one" : "a training one")} of {workspace.Batch}.", nameof(workspace));
        return Run(workspace, input, batch, training: false, stateless: true, threads);
    }

    private ReadOnlySpan<float> Run(Workspace ws, NetworkInput input, int batch, bool training, bool stateless, int t)
    {
        var c = Config;
        if (input.IsDense != c.IsDense)
            throw new ArgumentException(c.IsDense ? "This network reads dense feature rows, not symbol ids." : "This network reads symbol ids, not dense feature rows.", nameof(input));
        if (c.IsDense)
        {
            DenseInput.Check(input.FeatureValues, batch, c.InputWidth);
            input.FeatureValues[..ws.Input.Length].CopyTo(ws.Input);
        }
        else
        {
            if (input.IdValues.Length < ws.Ids.Length)
                throw new ArgumentException($"The batch holds {input.IdValues.Length} ids but {batch} rows of context {c.ContextLength} need {ws.Ids.Length}.", nameof(input));
            input.IdValues[..ws.Ids.Length].CopyTo(ws.Ids);
            Embedding!.Forward(ws.Ids, ws.Input, batch);
        }

        float[] h = ws.Input;
        int hn = batch * c.InputWidth;                    // length of the stream h: [B, width]
        bool pre = c.BlockStyle == BlockStyle.PreActivation;
        var dropout = training && !stateless && !ws.ForwardOnly ? Dropout : null;
        if (!stateless) ws.LastForwardDropped = dropout is not null;
        for (int i = 0; i < Hidden.Length; i++)
        {
            var lin = Hidden[i];
            var norm = Norms[i];
            int n = batch * c.HiddenWidths[i];
            var hs = h.AsSpan(0, hn);
            var stream = ws.Stream[i].AsSpan(0, n);
            if (!pre)
            {
                var z = ws.LinearOut[i].AsSpan(0, n);
                var y = ws.Activated[i].AsSpan(0, n);
                lin.Forward(hs, z, batch, threads: t);
                NormalizeAndActivate(norm, z, y, batch, training, stateless);
                if (dropout is not null)
                {
                    var mask = ws.Mask[i].AsSpan(0, n);
                    dropout.DrawMask(_dropoutRng!, mask);
                    if (_adds[i]) Layers.Dropout.ApplyAndAdd(y, mask, hs, stream);
                    else Layers.Dropout.Apply(y, mask, stream);
                }
                else if (_adds[i]) TensorPrimitives.Add(hs, y, stream);
            }
            else if (i == 0)
            {
                lin.Forward(hs, stream, batch, threads: t);
            }
            else
            {
                ReadOnlySpan<float> a = ws.Activated[i].AsSpan(0, hn);
                NormalizeAndActivate(norm, hs, ws.Activated[i].AsSpan(0, hn), batch, training, stateless);
                if (dropout is not null)
                {
                    var mask = ws.Mask[i].AsSpan(0, hn);
                    dropout.DrawMask(_dropoutRng!, mask);
                    Layers.Dropout.Apply(a, mask, ws.Dropped[i].AsSpan(0, hn));
                    a = ws.Dropped[i].AsSpan(0, hn);
                }
                if (_adds[i])
                {
                    hs.CopyTo(stream);
                    lin.Forward(a, stream, batch, accumulate: true, threads: t);
                }
                else lin.Forward(a, stream, batch, threads: t);
            }
            h = ws.Stream[i];
            hn = n;
        }

        int k = batch * c.OutputWidth;
        Output.Forward(h.AsSpan(0, hn), ws.OutputLinear, batch, threads: t);
        if (OutputNorm is not null)
        {
            if (stateless) OutputNorm.Infer(ws.OutputLinear, ws.Logits, batch, FusedActivation.None);
            else OutputNorm.Forward(ws.OutputLinear, ws.Logits, batch, training);
        }
        return ws.Logits.AsSpan(0, k);
    }

    /// <summary>The kernels' form of <paramref name="activation"/> (also the folded network's, <see cref="Export.FoldedMlp"/>).</summary>
    internal static FusedActivation Fused(Activation activation) => activation switch
    {
        Activation.Tanh => FusedActivation.Tanh,
        Activation.Relu => FusedActivation.Relu,
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };

    // Stateless selects the evaluation path that writes no layer state (BatchNorm1d.Infer). Activation groups cannot
    // fuse into the norm's kernel (it applies one nonlinearity to the whole row): the norm runs without one, then each group.
    private void NormalizeAndActivate(BatchNorm1d? norm, ReadOnlySpan<float> x, Span<float> y, int batch, bool training, bool stateless)
    {
        var fused = _groups is null ? _act : FusedActivation.None;
        if (norm is null) Activations.Forward(fused, x, y);
        else if (stateless) norm.Infer(x, y, batch, fused);
        else norm.Forward(x, y, batch, training, fused);
        if (_groups is not null) Activations.Forward(_groups, y[..x.Length], y, x.Length / batch);
    }

    // dx (+)= ∂/∂x of act(bn(x)) (without a norm, of act(x)) applied to dy. Activation groups cannot fuse into the
    // norm's kernel: their derivative goes first into temp (which may be dy itself, or dx), then the norm's backward.
    private void BackwardNormAndActivation(BatchNorm1d? norm, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> temp, Span<float> dx,
        int batch, bool accumulate)
    {
        if (_groups is null)
        {
            if (norm is not null) norm.Backward(x, y, dy, dx, batch, _act, accumulateDx: accumulate);
            else Activations.Backward(_act, y, dy, dx, accumulate);
        }
        else if (norm is null) Activations.Backward(_groups, y, dy, dx, dy.Length / batch, accumulate);
        else
        {
            Activations.Backward(_groups, y, dy, temp, dy.Length / batch);
            norm.Backward(x, y, temp, dx, batch, FusedActivation.None, accumulateDx: accumulate);
        }
    }

    /// <summary>
    /// Back-propagates ∂loss/∂logits [B, K] through the last forward pass, writing every parameter's gradient; tells
    /// <paramref name="sink"/> as each layer's gradients become final (see <see cref="IGradientSink"/>), and
    /// <paramref name="observer"/> each hidden layer's output gradient (diagnostics; null on ordinary steps).
    /// </summary>
    public void Backward(ReadOnlySpan<float> dLogits, IGradientSink? sink = null, IBackwardObserver? observer = null)
    {
        var ws = _last ?? throw new InvalidOperationException("Backward needs a forward pass first.");
        if (ws.ForwardOnly) throw new InvalidOperationException("Backward needs the activations of the last forward pass: run it in training mode or with keepActivations.");
        var c = Config;
        int batch = ws.Batch, t = Threads;
        if (dLogits.Length < batch * c.OutputWidth) throw new ArgumentException($"dLogits holds {dLogits.Length} values, the batch needs {batch * c.OutputWidth}.", nameof(dLogits));
        ReadOnlySpan<float> g = dLogits[..(batch * c.OutputWidth)];
        if (OutputNorm is not null)
        {
            OutputNorm.Backward(ws.OutputLinear, ws.Logits, g, ws.DOutputLinear, batch);
            g = ws.DOutputLinear;
            Ready(sink, _outputNormParameters);
        }

        int layers = Hidden.Length;
        float[] cur = ws.GradientA, other = ws.GradientB;
        float[] last = layers > 0 ? ws.Stream[layers - 1] : ws.Input;
        bool needInputGradient = !c.IsDense;
        Output.Backward(last, g, layers > 0 || needInputGradient ? cur.AsSpan() : Span<float>.Empty, batch, threads: t);
        Ready(sink, _outputParameters);

        bool pre = c.BlockStyle == BlockStyle.PreActivation;
        for (int i = layers - 1; i >= 0; i--)
        {
            var lin = Hidden[i];
            var norm = Norms[i];
            float[] hPrev = i == 0 ? ws.Input : ws.Stream[i - 1];
            int o = c.HiddenWidths[i], w = _inputWidths[i];
            var dStream = cur.AsSpan(0, batch * o);                  // ∂L/∂h_i  [B, o]
            observer?.LayerOutputGradient(i, dStream);
            bool needDx = i > 0 || needInputGradient;
            bool dropped = ws.Mask[i].Length > 0 && ws.LastForwardDropped;
            if (!pre)
            {
                var dz = ws.Scratch.AsSpan(0, batch * o);          // ∂L/∂z    [B, o]
                ReadOnlySpan<float> dy = dStream;                  // ∂L/∂y    [B, o]
                if (dropped)
                {
                    // Into the spare gradient buffer: cur must keep the stream's own gradient for the residual add, and
                    // `other` is written only after the norm's backward has read dy.
                    var masked = other.AsSpan(0, batch * o);
                    Layers.Dropout.Backward(dStream, ws.Mask[i].AsSpan(0, batch * o), masked);
                    dy = masked;
                }
                // dy may be the stream's gradient, which the residual add still needs: dz is the groups' scratch.
                BackwardNormAndActivation(norm, ws.LinearOut[i].AsSpan(0, batch * o), ws.Activated[i].AsSpan(0, batch * o), dy, dz, dz, batch, accumulate: false);
                if (_adds[i]) lin.Backward(hPrev, dz, cur, batch, accumulateDx: true, threads: t);   // the stream's own gradient stays in cur
                else
                {
                    lin.Backward(hPrev, dz, needDx ? other.AsSpan() : Span<float>.Empty, batch, threads: t);
                    (cur, other) = (other, cur);
                }
            }
            else if (i == 0)
            {
                lin.Backward(hPrev, dStream, needDx ? other.AsSpan() : Span<float>.Empty, batch, threads: t);
                (cur, other) = (other, cur);
            }
            else
            {
                float[] a = ws.Activated[i];
                var da = ws.Scratch.AsSpan(0, batch * w);          // ∂L/∂a    [B, w]
                lin.Backward(dropped ? ws.Dropped[i] : a, dStream, da, batch, threads: t);
                if (dropped) Layers.Dropout.Backward(da, ws.Mask[i].AsSpan(0, batch * w), da);
                float[] target = _adds[i] ? cur : other;
                var dPrev = target.AsSpan(0, batch * w);
                BackwardNormAndActivation(norm, hPrev.AsSpan(0, batch * w), a.AsSpan(0, batch * w), da, da, dPrev, batch, _adds[i]);
                if (!_adds[i]) (cur, other) = (other, cur);
            }
            Ready(sink, _hiddenParameters[i]);
        }

        if (Embedding is not null)
        {
            Embedding.Backward(ws.Ids, cur.AsSpan(0, batch * c.InputWidth), batch);
            Ready(sink, _embeddingParameters);
        }
    }

    private static void Ready(IGradientSink? sink, (int First, int Count) range)
    {
        if (sink is not null && range.Count > 0) sink.GradientsReady(range.First, range.Count);
    }

    /// <summary>
    /// Names the first activation of the last forward pass that holds a NaN or an infinity, in the order the
    /// forward computed them (e.g. <c>hidden.3.linear</c>), or null when all are finite.
    /// </summary>
    public string? FirstNonFiniteActivation()
    {
        if (_last is not { } ws) return null;
        var c = Config;
        int b = ws.Batch;
        if (ws.ForwardOnly)   // earlier layers' buffers were reused: only the logits are still there
            return IsFinite(ws.Logits.AsSpan(0, b * c.OutputWidth)) ? null : "logits (run a training-mode forward to locate the layer)";
        if (!IsFinite(ws.Input)) return c.IsDense ? "input" : "embedding";
        bool pre = c.BlockStyle == BlockStyle.PreActivation;
        for (int i = 0; i < Hidden.Length; i++)
        {
            if (!pre && !IsFinite(ws.LinearOut[i])) return $"hidden.{i}.linear";
            if (ws.Activated[i].Length > 0 && !IsFinite(ws.Activated[i])) return Norms[i] is null ? $"hidden.{i}.activation" : $"hidden.{i}.norm";
            if (!IsFinite(ws.Stream[i])) return pre || _adds[i] ? $"hidden.{i} (residual stream)" : $"hidden.{i}";
        }
        if (!IsFinite(ws.OutputLinear)) return "output";
        if (OutputNorm is not null && !IsFinite(ws.Logits)) return "output_norm";
        return null;
    }

    /// <summary>The first parameter holding a NaN or an infinity, or null.</summary>
    public string? FirstNonFiniteParameter()
    {
        foreach (var p in Parameters)
            if (!IsFinite(p.Data)) return p.Name;
        return null;
    }

    private static bool IsFinite(ReadOnlySpan<float> x)
    {
        // x·0 is 0 for finite x and NaN for NaN or ±∞, so one sum finds either.
        float s = 0;
        foreach (float v in x) s += v * 0;
        return s == 0;
    }

    /// <summary>Mean cross-entropy over a whole data set in evaluation mode, in chunks of at most <paramref name="chunk"/> rows.</summary>
    public double Evaluate(Dataset data, int chunk = 1024) => Score(data, chunk).Loss;

    /// <summary>
    /// Mean cross-entropy and top-1 accuracy (argmax, ties to the lowest id) over a whole data set in evaluation
    /// mode, in chunks of at most <paramref name="chunk"/> rows.
    /// </summary>
    public (double Loss, double Accuracy) Score(Dataset data, int chunk = 1024)
    {
        CheckDataset(data, "evaluation");
        if (data.Count == 0) throw new ArgumentException("Cannot evaluate an empty data set.", nameof(data));
        int k = Config.OutputWidth;
        double total = 0;
        long correct = 0;
        for (int start = 0; start < data.Count; start += chunk)
        {
            int n = Math.Min(chunk, data.Count - start);
            var logits = Forward(data.Rows(start, n), n, training: false);
            var labels = data.Labels.AsSpan(start, n);
            for (int r = 0; r < n; r++)
            {
                var row = logits.Slice(r * k, k);
                int best = 0;
                for (int j = 1; j < k; j++) if (row[j] > row[best]) best = j;
                if (best == labels[r]) correct++;
            }
            // The gradient buffer is scratch here: the fused loss is fastest when it may write there.
            total += SoftmaxCrossEntropy.Forward(logits, labels, GetWorkspace(n, forwardOnly: true).DLogits, n, k) * n;
        }
        return (total / data.Count, (double)correct / data.Count);
    }

    /// <summary>
    /// Recomputes every BatchNorm's running statistics over the whole data set (the second seed's calibration),
    /// layer by layer because each layer's input depends on the calibrated layers before it. PyTorch's convention:
    /// running_mean is the full-set mean and running_var the full-set unbiased variance (the seed divides by the
    /// unbiased standard deviation without eps; with N in the hundreds of thousands the difference is negligible).
    /// The residual stream of the whole set is kept ([N, width], one or two at a time); each layer's Linear output
    /// is computed in chunks of <paramref name="chunk"/> rows, twice where a BatchNorm follows it (once for its
    /// statistics, once to apply them) rather than stored.
    /// </summary>
    public void Calibrate(Dataset data, int chunk = 4096)
    {
        CheckDataset(data, "calibration");
        if (chunk < 1) throw new ArgumentOutOfRangeException(nameof(chunk), chunk, "The chunk needs at least one row.");
        var c = Config;
        int n = data.Count, t = Threads;
        var h = WholeSet(n, c.InputWidth);
        if (c.IsDense) data.Features.AsSpan(0, h.Length).CopyTo(h);
        else Embedding!.Forward(data.Contexts!, h, n);
        int hw = c.InputWidth;
        bool pre = c.BlockStyle == BlockStyle.PreActivation;
        for (int i = 0; i < Hidden.Length; i++)
        {
            var lin = Hidden[i];
            var norm = Norms[i];
            int o = c.HiddenWidths[i];
            if (!pre)
            {
                var z = new float[Math.Min(chunk, n) * o];   // one chunk of linear(h)  [C, o]
                if (norm is not null)
                {
                    var moments = new ColumnMoments(o);
                    for (int s = 0; s < n; s += chunk)
                    {
                        int rows = Math.Min(chunk, n - s);
                        lin.Forward(h.AsSpan(s * hw, rows * hw), z, rows, threads: t);
                        moments.Add(z, rows);
                    }
                    norm.Calibrate(moments);
                }
                var next = _adds[i] ? h : WholeSet(n, o);
                for (int s = 0; s < n; s += chunk)
                {
                    int rows = Math.Min(chunk, n - s);
                    var zc = z.AsSpan(0, rows * o);
                    lin.Forward(h.AsSpan(s * hw, rows * hw), zc, rows, threads: t);
                    NormalizeAndActivateInPlace(norm, zc, rows);
                    var target = next.AsSpan(s * o, rows * o);
                    if (_adds[i]) TensorPrimitives.Add(target, zc, target);   // rows are independent: in place is safe
                    else zc.CopyTo(target);
                }
                h = next;
            }
            else if (i == 0)
            {
                var next = WholeSet(n, o);
                for (int s = 0; s < n; s += chunk)
                {
                    int rows = Math.Min(chunk, n - s);
                    lin.Forward(h.AsSpan(s * hw, rows * hw), next.AsSpan(s * o, rows * o), rows, threads: t);
                }
                h = next;
            }
            else
            {
                if (norm is not null)
                {
                    var moments = new ColumnMoments(hw);
                    moments.Add(h, n);
                    norm.Calibrate(moments);
                }
                var a = new float[Math.Min(chunk, n) * hw];   // one chunk of act(bn(h))  [C, w]
                var next = _adds[i] ? h : WholeSet(n, o);
                for (int s = 0; s < n; s += chunk)
                {
                    int rows = Math.Min(chunk, n - s);
                    var ac = a.AsSpan(0, rows * hw);
                    h.AsSpan(s * hw, rows * hw).CopyTo(ac);
                    NormalizeAndActivateInPlace(norm, ac, rows);
                    lin.Forward(ac, next.AsSpan(s * o, rows * o), rows, accumulate: _adds[i], threads: t);
                }
                h = next;
            }
            hw = o;
        }
        if (OutputNorm is not null)
        {
            var z = new float[Math.Min(chunk, n) * c.OutputWidth];
            var moments = new ColumnMoments(c.OutputWidth);
            for (int s = 0; s < n; s += chunk)
            {
                int rows = Math.Min(chunk, n - s);
                Output.Forward(h.AsSpan(s * hw, rows * hw), z, rows, threads: t);
                moments.Add(z, rows);
            }
            OutputNorm.Calibrate(moments);
        }
    }

    private static float[] WholeSet(int rows, int width) => (long)rows * width <= Array.MaxLength
        ? new float[rows * width]
        : throw new ArgumentException($"Calibration holds the whole set's activations: {rows} rows of width {width} exceed one array.");

    private void NormalizeAndActivateInPlace(BatchNorm1d? norm, Span<float> x, int rows) => NormalizeAndActivate(norm, x, x, rows, training: false, stateless: false);

    // A unit's parameters are contiguous in Parameters (layout order); null entries are absent tensors.
    private static (int First, int Count) RangeOf(Parameter[] all, params Parameter?[] unit)
    {
        int first = -1, count = 0;
        foreach (var p in unit)
        {
            if (p is null) continue;
            int index = Array.IndexOf(all, p);
            if (first < 0) first = index;
            if (index != first + count) throw new InvalidOperationException($"Parameter '{p.Name}' is not contiguous with its layer's others.");
            count++;
        }
        return (Math.Max(first, 0), count);
    }

    /// <summary>Throws unless <paramref name="data"/> holds rows of the kind and width this network reads.</summary>
    public void CheckDataset(Dataset data, string what)
    {
        ArgumentNullException.ThrowIfNull(data);
        var c = Config;
        if (data.IsDense != c.IsDense)
            throw new ArgumentException($"The {what} set holds {(data.IsDense ? "dense feature rows" : "symbol ids")} but the network reads {(c.IsDense ? "dense feature rows" : "symbol ids")}.", what);
        int width = c.IsDense ? c.DenseInputWidth : c.ContextLength;
        if (data.RowWidth != width)
            throw new ArgumentException($"The {what} set's rows hold {data.RowWidth} {(c.IsDense ? "features" : "ids")} but the network reads {width}.", what);
    }

    private static void Validate(MlpConfig c)
    {
        if (c.HiddenWidths is null) throw new ArgumentException("MlpConfig.HiddenWidths must not be null.");
        if (c.IsDense)
        {
            if (c.DenseInputWidth <= 0) throw new ArgumentException($"MlpConfig.DenseInputWidth must be positive, not {c.DenseInputWidth}.");
        }
        else
        {
            if (c.VocabularySize <= 0) throw new ArgumentException($"MlpConfig.VocabularySize must be positive for symbol inputs, not {c.VocabularySize}.");
            if (c.EmbeddingWidth <= 0) throw new ArgumentException($"MlpConfig.EmbeddingWidth must be positive, not {c.EmbeddingWidth}.");
            if (c.ContextLength <= 0) throw new ArgumentException($"MlpConfig.ContextLength must be positive, not {c.ContextLength}.");
        }
        if (c.OutputWidth <= 0) throw new ArgumentException($"MlpConfig.OutputWidth must be positive, not {c.OutputWidth}.");
        for (int i = 0; i < c.HiddenWidths.Count; i++)
            if (c.HiddenWidths[i] <= 0) throw new ArgumentException($"MlpConfig.HiddenWidths[{i}] must be positive, not {c.HiddenWidths[i]}.");
        if (c.BlockStyle == BlockStyle.PreActivation && c.HiddenWidths.Count == 0)
            throw new ArgumentException("A pre-activation network needs at least the stem layer in HiddenWidths.");
        if (c.ActivationGroupsProblem() is string problem) throw new ArgumentException($"MlpConfig.ActivationGroups: {problem}.");
    }

    private void CheckAgainstLayout()
    {
        var expected = TensorLayout.Expected(Config);
        bool same = expected.Count == Tensors.Count;
        for (int i = 0; same && i < expected.Count; i++)
            same = expected[i].Name == Tensors[i].Name && expected[i].Shape.AsSpan().SequenceEqual(Tensors[i].Shape)
                && (expected[i].Role == TensorRole.Parameter) == (Tensors[i] is Parameter);
        if (!same) throw new InvalidOperationException("MlpNetwork's tensors disagree with TensorLayout.Expected: the two must be changed together.");
    }
}
