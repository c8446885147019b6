using System.Runtime.InteropServices;
using Microsoft.ML.BatchNormMlp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BatchNormMlp.Engines.TorchSharp;

/// <summary>
/// Readies libtorch for a run: the native loader fix (<see cref="NativeLoader"/>), a clear error when the application
/// references no libtorch package or no CUDA build of it, the CUDA device checks, and the intra-op thread count.
/// </summary>
internal static class TorchRuntime
{
    private static string PackageVersion => typeof(torch).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "of TorchSharp's version";

    /// <summary>The torch device for <paramref name="device"/>, after checking that it can run here.</summary>
    public static Device Initialize(TrainingDevice device)
    {
        NativeLoader.EnsureLoadable(typeof(torch).Assembly);
        // What TorchSharp itself probes first; failing here gives one clear message instead of its load trace.
        if (!NativeLibrary.TryLoad("torch_cpu", typeof(torch).Assembly, null, out _))
            throw new EngineUnavailableException(
                $"The TorchSharp engine needs libtorch, which this application does not reference: add the package TorchSharp-cpu {PackageVersion} " +
                "(or TorchSharp-cuda-linux / TorchSharp-cuda-windows for NVIDIA GPUs) to the application's project, or train with Engine = Managed.");
        if (!device.IsCuda) return CPU;

        if (!NativeLibrary.TryLoad("torch_cuda", typeof(torch).Assembly, null, out _))
            throw new EngineUnavailableException(
                $"Device \"{device}\" needs a CUDA build of libtorch, which this application does not reference: reference TorchSharp-cuda-linux (Linux) " +
                $"or TorchSharp-cuda-windows (Windows) {PackageVersion} instead of TorchSharp-cpu, or use device \"cpu\".");
        if (!torch.TryInitializeDeviceType(DeviceType.CUDA) || !cuda.is_available())
            throw new EngineUnavailableException(
                $"Device \"{device}\": libtorch's CUDA build is present but finds no usable CUDA device (no NVIDIA GPU, or no driver matching its CUDA version); use device \"cpu\".");
        int count = cuda.device_count();
        if (device.Index >= count)
            throw new EngineUnavailableException(
                $"Device \"{device}\" does not exist: this machine has {count} CUDA device(s), cuda:0{(count > 1 ? $" to cuda:{count - 1}" : "")}.");
        return new Device(DeviceType.CUDA, device.Index);
    }

    /// <summary>libtorch's intra-op threads (a process-wide setting, so set at the start of every run).</summary>
    public static void SetThreads(int threads)
    {
        if (torch.get_num_threads() != threads) torch.set_num_threads(threads);
    }
}
