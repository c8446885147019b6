using System.Diagnostics;

namespace Microsoft.ML.BatchNormMlp.Benchmarks;

/// <summary>
/// Names scored per second, folded against unfolded: <c>dotnet run -c Release --project
/// benchmarks/Microsoft.ML.BatchNormMlp.Benchmarks -- inference [--steps N] [--model M] [--seconds S] [--data PATH]</c>.
/// Scores every name of names.txt with <see cref="CharacterModel.ScoreBatch"/> (large batches) and one name per call
/// with <see cref="CharacterModel.Score"/> (latency), each for about S seconds after a warm-up, single-threaded.
/// </summary>
internal static class InferenceThroughput
{
    public static int Run(string[] args)
    {
        var (model, _, names, _) = QuickArguments.Bn1(args, defaultSteps: 200);
        double seconds = QuickArguments.GetInt(args, "--seconds", 3);
        var folded = model.Fold();
        int symbols = names.Sum(n => n.Length + 1);
        Console.WriteLine($"scoring {names.Count} names ({symbols} next-symbol predictions per pass), {seconds} s per measurement, 1 thread");
        Console.WriteLine($"{"mode",-22} {"unfolded",14} {"folded",14} {"speed-up",9}");

        var batchUnfolded = Measure(() => model.ScoreBatch(names), names.Count, seconds);
        var batchFolded = Measure(() => folded.ScoreBatch(names), names.Count, seconds);
        Print("batch (names/s)", batchUnfolded, batchFolded);

        var one = names.Take(2000).ToArray();
        var singleUnfolded = Measure(() => { foreach (var n in one) model.Score(n); }, one.Length, seconds);
        var singleFolded = Measure(() => { foreach (var n in one) folded.Score(n); }, one.Length, seconds);
        Print("one per call (names/s)", singleUnfolded, singleFolded);
        return 0;
    }

    private static double Measure(Action pass, int namesPerPass, double seconds)
    {
        pass();   // warm-up: JIT, pooled workspaces
        long count = 0;
        var clock = Stopwatch.StartNew();
        do { pass(); count += namesPerPass; } while (clock.Elapsed.TotalSeconds < seconds);
        return count / clock.Elapsed.TotalSeconds;
    }

    private static void Print(string mode, double unfolded, double folded) =>
        Console.WriteLine($"{mode,-22} {unfolded,14:N0} {folded,14:N0} {folded / unfolded,8:F2}x");
}
