using System.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.ML.BatchNormMlp.Featurization;
using Microsoft.ML.BatchNormMlp.MlNet;

namespace Microsoft.ML.BatchNormMlp.Benchmarks;

/// <summary>
/// What the ML.NET path costs over the engine alone, in one run: <c>dotnet run -c Release --project
/// benchmarks/Microsoft.ML.BatchNormMlp.Benchmarks -- mlnet [--steps N] [--repeats R] [--data PATH]</c>.
/// Fitting bn1 through <c>Fit(IDataView)</c> (which reads the featurized IDataView once into the engine's arrays)
/// against the trainer on rows already in arrays, same seed, alternating, best of R; then the dev split scored and
/// evaluated through <c>Transform</c> + <c>MulticlassClassification.Evaluate</c> against the model's own
/// <c>Evaluate</c>. One thread. Both fits give the same model (checked).
/// </summary>
internal static class MlNetOverhead
{
    public static int Run(string[] args)
    {
        int steps = QuickArguments.GetInt(args, "--steps", 200_000), repeats = QuickArguments.GetInt(args, "--repeats", 3);
        var ml = new MLContext(seed: 1);
        var names = ml.Data.LoadNames(QuickArguments.Get(args, "--data"));
        var split = ml.Data.SplitLikeSeeds(names);
        var featurizer = ml.Transforms.Text.FeaturizeContextWindows().Fit(split.TrainSet);
        IDataView train = featurizer.Transform(split.TrainSet), dev = featurizer.Transform(split.DevSet);
        var options = new BatchNormMlpTrainer.Options { Preset = "bn1", Steps = steps, Seed = 1, Threads = 1 };
        var trainer = ml.MulticlassClassification.Trainers.BatchNormMlp(options);
        var trainRows = KeyRows.Read(train, "Context", "Label", null, "training");
        var devRows = KeyRows.Read(dev, "Context", "Label", trainRows, "dev");
        Console.WriteLine($"bn1, {steps} steps, 1 thread, best of {repeats} (alternating)");

        double engine = double.MaxValue, pipeline = double.MaxValue;
        BatchNormCharacterModel? a = null;
        BatchNormMlpTransformer? b = null;
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            a = trainer.Train(trainRows, null);
            engine = Math.Min(engine, clock.Elapsed.TotalSeconds);
            clock.Restart();
            b = trainer.Fit(train);
            pipeline = Math.Min(pipeline, clock.Elapsed.TotalSeconds);
        }
        bool same = a!.PredictNext("emm").SequenceEqual(b!.Model.PredictNext("emm"));
        Console.WriteLine($"fit:      engine on arrays {engine:F2} s, ML.NET Fit(IDataView) {pipeline:F2} s: {100 * (pipeline / engine - 1):+0.0;-0.0}% (same model: {same})");

        double own = Best(repeats * 3, () => a.Evaluate(devRows));
        double mlnet = Best(repeats * 3, () => ml.MulticlassClassification.Evaluate(b.Transform(dev)));
        double transformOnly = Best(repeats * 3, () => { foreach (var _ in b.Transform(dev).GetColumn<float[]>("Score")) { } });
        Console.WriteLine($"evaluate: model.Evaluate {own * 1e3:F1} ms, Transform + Evaluate {mlnet * 1e3:F1} ms ({mlnet / own:F2}x; Transform alone {transformOnly * 1e3:F1} ms) over {devRows.Count} dev rows");
        return 0;
    }

    private static double Best(int repeats, Action run)
    {
        run();
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            run();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }
}
