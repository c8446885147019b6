using Microsoft.ML.BatchNormMlp.Training;
using System.Globalization;
using BenchmarkDotNet.Running;

namespace Microsoft.ML.BatchNormMlp.Benchmarks;

internal static class Program
{
    private static int Main(string[] args)
    {
        // Quick Stopwatch modes for figures in seconds; anything else goes to BenchmarkDotNet.
        switch (args.FirstOrDefault())
        {
            case "step": return StepQuick.Run(args[1..]);
            case "inference": return InferenceThroughput.Run(args[1..]);
            case "folding": return FoldingFigures.Run(args[1..]);
            case "mlnet": return MlNetOverhead.Run(args[1..]);
            case "peak":
                double g = PeakFlops.Measure();
                // Zen 5 executes two full-width 512-bit FMAs per cycle (64 FLOP/cycle); Zen 4 double-pumps (32).
                Console.WriteLine($"peak {g:F1} GFLOP/s (Vector512 FMA, 1 thread) = 64 FLOP/cycle at {g / 64:F2} GHz or 32 FLOP/cycle at {g / 32:F2} GHz");
                return 0;
            case "kernels":
                KernelQuick.Run(args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 0.2);
                return 0;
            case "gemm":
                double seconds = args.Length > 1 && !args[1].StartsWith("--", StringComparison.Ordinal) ? double.Parse(args[1], CultureInfo.InvariantCulture) : 0.3;
                int only = Array.IndexOf(args, "--only");
                GemmQuick.Run(seconds, csv: args.Contains("--csv"), onlyModel: only >= 0 && only + 1 < args.Length ? args[only + 1] : null);
                return 0;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
