using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BatchNormMlp.Engines.TorchSharp;

/// <summary>Copies between the managed float arrays of <see cref="Model.MlpNetwork"/> and torch tensors on any device.</summary>
internal static class TorchTensors
{
    /// <summary>A new float32 tensor of <paramref name="shape"/> on <paramref name="device"/> holding <paramref name="values"/>.</summary>
    public static Tensor FromHost(float[] values, long[] shape, Device device)
    {
        var host = tensor(values, shape, ScalarType.Float32);
        if (device.type == DeviceType.CPU) return host;
        using (host) return host.to(device);
    }

    /// <summary><paramref name="target"/> (any device) = <paramref name="values"/>, in place, outside autograd.</summary>
    public static void CopyIn(Tensor target, float[] values)
    {
        if (target.numel() != values.Length) throw new ArgumentException($"{values.Length} values for a tensor of {target.numel()}.", nameof(values));
        using var guard = no_grad();
        using var host = tensor(values, target.shape, ScalarType.Float32);
        target.copy_(host);
    }

    /// <summary>Copies <paramref name="source"/> (any device, float32) into <paramref name="values"/>.</summary>
    public static void CopyOut(Tensor source, float[] values)
    {
        if (source.numel() != values.Length) throw new ArgumentException($"{values.Length} values for a tensor of {source.numel()}.", nameof(values));
        using var detached = source.detach();
        using var host = detached.device_type == DeviceType.CPU ? detached.contiguous() : detached.cpu().contiguous();
        host.data<float>().CopyTo(values);
    }
}
