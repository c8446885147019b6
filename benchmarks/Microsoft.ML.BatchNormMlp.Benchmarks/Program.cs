using BenchmarkDotNet.Running;

namespace Microsoft.ML.BatchNormMlp.Benchmarks;

internal static class Program
{
    private static int Main(string[] args)
    {
        // Quick Stopwatch modes for figures; anything else goes to BenchmarkDotNet.
        switch (args.FirstOrDefault())
        {
            case "inference": return InferenceThroughput.Run(args[1..]);
            case "folding": return FoldingFigures.Run(args[1..]);
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
