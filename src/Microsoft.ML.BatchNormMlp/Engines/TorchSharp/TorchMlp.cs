using Microsoft.ML.BatchNormMlp.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BatchNormMlp.Engines.TorchSharp;

/// <summary>
/// <see cref="MlpNetwork"/>'s architecture built from TorchSharp's modules: <c>embedding</c> (nn.Embedding; absent for
/// dense inputs), <c>hidden</c> (a ModuleList of <see cref="TorchHiddenBlock"/>), <c>output</c> (nn.Linear) and
/// <c>output_norm</c> (nn.BatchNorm1d, when configured). Its state dict therefore carries exactly
/// <see cref="TensorLayout"/>'s names, plus BatchNorm's <c>num_batches_tracked</c>, which nothing here reads.
/// Input: symbol ids [B, ctx] (int64) or dense rows [B, F]; output: logits [B, K]. The blocks share one
/// <see cref="TorchDropout"/> (<see cref="Dropout"/>, off until configured), which holds no tensors of the state dict.
/// </summary>
internal sealed class TorchMlp : nn.Module<Tensor, Tensor>
{
    private readonly Embedding? _embedding;
    private readonly ModuleList<TorchHiddenBlock> _hidden;
    private readonly Linear _output;
    private readonly BatchNorm1d? _outputNorm;

    /// <param name="network">The network whose shapes this copies (not its values: see <see cref="TorchSharpEngine"/>).</param>
    /// <param name="device">Where the parameters live.</param>
    public TorchMlp(MlpNetwork network, Device device) : base("mlp")
    {
        var c = network.Config;
        Dropout = new TorchDropout(device);
        if (!c.IsDense)
        {
            _embedding = nn.Embedding(c.VocabularySize, c.EmbeddingWidth, device: device);
            register_module("embedding", _embedding);
        }
        _hidden = nn.ModuleList(Enumerable.Range(0, c.HiddenWidths.Count).Select(i => new TorchHiddenBlock(c, network, i, Dropout, device)).ToArray());
        register_module("hidden", _hidden);
        _output = nn.Linear(network.Output.Inputs, c.OutputWidth, hasBias: c.OutputBias, device: device);
        register_module("output", _output);
        if (c.OutputBatchNorm)
        {
            _outputNorm = nn.BatchNorm1d(c.OutputWidth, eps: c.BatchNormEpsilon, momentum: c.BatchNormMomentum, device: device);
            register_module("output_norm", _outputNorm);
        }
    }

    /// <summary>The hidden blocks' dropout (training mode only).</summary>
    public TorchDropout Dropout { get; }

    public override Tensor forward(Tensor input)
    {
        // [B, ctx] ids -> [B, ctx, E] -> [B, ctx·E]: the symbols' embeddings side by side, as MlpNetwork concatenates them.
        var h = _embedding is null ? input : _embedding.forward(input).view(input.shape[0], -1);
        foreach (var block in _hidden) h = block.forward(h);
        var logits = _output.forward(h);
        return _outputNorm is null ? logits : _outputNorm.forward(logits);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Dropout.Dispose();
        base.Dispose(disposing);
    }
}
