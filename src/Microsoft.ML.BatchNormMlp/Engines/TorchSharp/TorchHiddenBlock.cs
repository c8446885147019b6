using Microsoft.ML.BatchNormMlp.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BatchNormMlp.Engines.TorchSharp;

/// <summary>
/// Hidden layer i of <see cref="MlpNetwork"/> as a TorchSharp module with submodules <c>linear</c> and <c>norm</c> (so
/// that its state-dict names are <see cref="TensorLayout"/>'s <c>hidden.{i}.linear.weight</c>, <c>hidden.{i}.norm.running_mean</c>...).
/// Post-activation: <c>y = act(norm(linear(h)))</c>, <c>h + y</c> when residual; pre-activation: the stem is
/// <c>linear(h)</c>, later layers <c>linear(act(norm(h)))</c>, <c>h + ...</c> when residual. With dropout, in training
/// mode, where <see cref="MlpNetwork.Dropout"/> drops: a post-activation block's output before the residual add,
/// <c>h + drop(act(norm(linear(h))))</c>; a pre-activation block's activation, <c>h + linear(drop(act(norm(h))))</c>
/// (not the stem).
/// </summary>
internal sealed class TorchHiddenBlock : nn.Module<Tensor, Tensor>
{
    private readonly Linear _linear;
    private readonly BatchNorm1d? _norm;
    private readonly bool _pre, _stem, _adds, _relu;
    private readonly TorchDropout _dropout;
    private readonly int _index;

    public TorchHiddenBlock(MlpConfig config, MlpNetwork shape, int index, TorchDropout dropout, Device device) : base($"hidden.{index}")
    {
        _dropout = dropout;
        _index = index;
        int input = shape.LayerInputWidth(index), output = config.HiddenWidths[index];
        _pre = config.BlockStyle == BlockStyle.PreActivation;
        _stem = _pre && index == 0;
        _adds = shape.AddsResidual(index);
        _relu = config.Activation == Activation.Relu;
        _linear = nn.Linear(input, output, hasBias: config.HiddenBias, device: device);
        register_module("linear", _linear);
        if (shape.Norms[index] is { } norm)
        {
            _norm = nn.BatchNorm1d(norm.Width, eps: config.BatchNormEpsilon, momentum: config.BatchNormMomentum, device: device);
            register_module("norm", _norm);
        }
    }

    public override Tensor forward(Tensor h)
    {
        if (_stem) return _linear.forward(h);
        Tensor y;
        if (_pre)
        {
            var a = Activate(_norm is null ? h : _norm.forward(h));
            if (Drops) a = _dropout.Apply(a, _index);
            y = _linear.forward(a);
        }
        else
        {
            var z = _linear.forward(h);
            y = Activate(_norm is null ? z : _norm.forward(z));
            if (Drops) y = _dropout.Apply(y, _index);
        }
        return _adds ? h + y : y;
    }

    private bool Drops => training && _dropout.Active;

    private Tensor Activate(Tensor x) => _relu ? nn.functional.relu(x) : torch.tanh(x);
}
