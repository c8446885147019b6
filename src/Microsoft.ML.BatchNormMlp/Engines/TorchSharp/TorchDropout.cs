using System.Runtime.InteropServices;
using Microsoft.ML.BatchNormMlp.Numerics;
using TorchSharp;
using static TorchSharp.torch;
using ManagedDropout = Microsoft.ML.BatchNormMlp.Layers.Dropout;

namespace Microsoft.ML.BatchNormMlp.Engines.TorchSharp;

/// <summary>
/// Hidden dropout of <see cref="TorchMlp"/>'s blocks, applied where <see cref="Model.MlpNetwork.Dropout"/> drops
/// (each <see cref="TorchHiddenBlock"/> calls <see cref="Apply"/> at that point, in training mode only) with the
/// managed layer's rate and scale: the rate is <see cref="ManagedDropout"/>'s quantized one (<c>Threshold / 2¹⁶</c>)
/// and a kept value is multiplied by its <see cref="ManagedDropout.Scale"/>, <c>1 / (1 - p)</c> of that rate, so that
/// only which units are dropped differs between the engines.
/// <para>
/// The mask is drawn by libtorch, <c>uniform_</c> compared with p (a Bernoulli(1 - p) draw, as libtorch's CPU dropout's
/// <c>bernoulli_</c> is), scaled and multiplied in, from a generator of the engine's own instead of torch's global one:
/// <see cref="BeginStep"/> seeds it with one word of the run's dropout stream (<see cref="Model.MlpNetwork.DropoutGenerator"/>,
/// the trainer's, saved in checkpoints), so a seed gives the same masks and a resumed run continues them exactly,
/// and nothing else in the process moves torch's generator. TorchSharp creates CPU generators only; on a CUDA device
/// the masks come from the device's default generator, seeded the same way each step (a process-wide setting).
/// </para>
/// <para>
/// <see cref="ManagedMasks"/> (a test hook) draws the masks on the host with the managed layer's own
/// <see cref="ManagedDropout.DrawMask"/> from the same stream in the same order as the managed engine, and feeds them in
/// as tensors: the two engines then drop the same units, so their losses, gradients and resumed runs can be compared.
/// </para>
/// </summary>
internal sealed class TorchDropout : IDisposable
{
    private readonly Device _device;
    private readonly Generator? _generator;   // CPU only (TorchSharp has no device generators)
    private ManagedDropout? _dropout;          // null: off
    private Rng? _stream;
    private Tensor?[] _hostMasks = [];         // ManagedMasks: per block [capacity] float32 host tensors

    public TorchDropout(Device device)
    {
        _device = device;
        if (device.type == DeviceType.CPU) _generator = new Generator(0);
    }

    /// <summary>Whether anything is ever dropped.</summary>
    public bool Active => _dropout is not null;

    /// <summary>The managed layer whose rate and scale apply (null: off).</summary>
    public ManagedDropout? Layer => _dropout;

    /// <summary>Test hook: masks from the managed layer's generator code on the host (see the class remarks), not libtorch's.</summary>
    public bool ManagedMasks { get; set; }

    /// <summary>Turns dropout on with <paramref name="dropout"/>'s rate and masks seeded from <paramref name="stream"/>, or off (null).</summary>
    public void Configure(ManagedDropout? dropout, Rng? stream)
    {
        if (dropout is not null && !dropout.IsIdentity) ArgumentNullException.ThrowIfNull(stream);
        _dropout = dropout is null || dropout.IsIdentity ? null : dropout;
        _stream = _dropout is null ? null : stream;
    }

    /// <summary>Before a training-mode forward: seeds this step's masks from the stream (one word; none with <see cref="ManagedMasks"/>, which draw as they go).</summary>
    public void BeginStep()
    {
        if (_dropout is null || ManagedMasks) return;
        long seed = (long)_stream!.NextUInt64();
        if (_generator is not null) _generator.manual_seed(seed);
        else cuda.manual_seed_all(seed);
    }

    /// <summary><c>x ⊙ mask</c> for block <paramref name="block"/>: each element kept with probability 1 - p and then scaled by 1/(1 - p).</summary>
    public Tensor Apply(Tensor x, int block)
    {
        var d = _dropout ?? throw new InvalidOperationException("Dropout is off.");
        Tensor mask;
        if (ManagedMasks) mask = HostMask(d, x, block);
        else
        {
            // Kept where a uniform u >= p: u lies on a 2^-24 grid and p on a 2^-16 one, so P(kept) = 1 - p exactly.
            // (bernoulli_(1 - p) draws the same distribution from a double per element; this is twice as fast.)
            double rate = d.Threshold / 65536.0;
            mask = empty_like(x).uniform_(0, 1, _generator).ge_(rate).mul_(d.Scale);
        }
        return x * mask;
    }

    // The managed engine's mask of this block for this step: drawn into a host tensor, moved to the device if needed.
    private Tensor HostMask(ManagedDropout d, Tensor x, int block)
    {
        long rows = x.shape[0], width = x.shape[1];
        int n = checked((int)(rows * width));
        if (block >= _hostMasks.Length) Array.Resize(ref _hostMasks, block + 1);
        if (_hostMasks[block] is not { } host || host.numel() < n)
        {
            _hostMasks[block]?.Dispose();
            host = _hostMasks[block] = zeros(n, ScalarType.Float32).DetachFromDisposeScope();
        }
        d.DrawMask(_stream!, MemoryMarshal.Cast<byte, float>(host.bytes)[..n]);
        var mask = host.narrow(0, 0, n).view(rows, width);
        return _device.type == DeviceType.CPU ? mask : mask.to(_device);
    }

    public void Dispose()
    {
        _generator?.Dispose();
        foreach (var t in _hostMasks) t?.Dispose();
        _hostMasks = [];
    }
}
