using System.Globalization;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// Where a training run computes, parsed from PyTorch's spelling: <c>cpu</c>, <c>cuda</c> (the current CUDA device,
/// index 0) or <c>cuda:N</c>. Only syntax is checked here; whether the device exists is the engine's business (it
/// needs libtorch to ask), so this type stays free of TorchSharp.
/// </summary>
internal readonly record struct TrainingDevice(bool IsCuda, int Index)
{
    public static TrainingDevice Cpu => new(false, 0);

    /// <summary>The largest CUDA index accepted syntactically (no machine has more devices).</summary>
    public const int MaxCudaIndex = 1023;

    public static bool TryParse(string? text, out TrainingDevice device)
    {
        device = Cpu;
        if (text == "cpu") return true;
        if (text == "cuda") { device = new(true, 0); return true; }
        if (text is null || !text.StartsWith("cuda:", StringComparison.Ordinal)) return false;
        string digits = text["cuda:".Length..];
        // Digits only: no sign, spaces or exponent, and no leading zeros ("cuda:01" is not PyTorch's spelling either).
        if (digits.Length == 0 || digits.Length > 4 || !digits.All(char.IsAsciiDigit) || (digits.Length > 1 && digits[0] == '0')) return false;
        int index = int.Parse(digits, CultureInfo.InvariantCulture);
        if (index > MaxCudaIndex) return false;
        device = new(true, index);
        return true;
    }

    /// <summary>Parses <paramref name="text"/> or throws an <see cref="ArgumentException"/> naming the accepted forms.</summary>
    public static TrainingDevice Parse(string? text, string parameterName = "device") => TryParse(text, out var device)
        ? device
        : throw new ArgumentException($"Unknown device \"{text}\": use \"cpu\", \"cuda\" or \"cuda:N\" (N from 0 to {MaxCudaIndex}).", parameterName);

    public override string ToString() => IsCuda ? $"cuda:{Index.ToString(CultureInfo.InvariantCulture)}" : "cpu";
}
