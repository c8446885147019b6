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
        Console.WriteLine($"bn1, {steps} steps, 1 thread, best of {repeats} (alternating), thread CPU time");

        double engine = double.MaxValue, pipeline = double.MaxValue;
        BatchNormCharacterModel? a = null;
        BatchNormMlpTransformer? b = null;
        for (int i = 0; i < repeats; i++)
        {
            // Thread CPU time: the machine is shared, and both fits run on this thread (one training thread).
            double t0 = Training.ThreadCpuClock.NowMicroseconds();
            a = trainer.Train(trainRows, null);
            double t1 = Training.ThreadCpuClock.NowMicroseconds();
            b = trainer.Fit(train);
            double t2 = Training.ThreadCpuClock.NowMicroseconds();
            engine = Math.Min(engine, (t1 - t0) / 1e6);
            pipeline = Math.Min(pipeline, (t2 - t1) / 1e6);
        }
        bool same = a!.PredictNext("emm").SequenceEqual(b!.Model.PredictNext("emm"));
        Console.WriteLine($"fit:      engine on arrays {engine:F2} s, ML.NET Fit(IDataView) {pipeline:F2} s: {100 * (pipeline / engine - 1):+0.0;-0.0}% (same model: {same})");

        double own = Best(repeats * 3, () => a.Evaluate(devRows));
        double mlnet = Best(repeats * 3, () => ml.MulticlassClassification.Evaluate(b.Transform(dev)));
        double transformOnly = Best(repeats * 3, () => Drain(b.Transform(dev), "Score"));
        double readOnly = Best(repeats * 3, () => Drain(dev, "Context"));
        double fromView = Best(repeats * 3, () => a.Evaluate(dev));
        Console.WriteLine($"evaluate over {devRows.Count} dev rows: model.Evaluate(rows in arrays) {own * 1e3:F1} ms, model.Evaluate(IDataView) {fromView * 1e3:F1} ms, "
            + $"Transform + MulticlassClassification.Evaluate {mlnet * 1e3:F1} ms ({mlnet / own:F2}x the arrays, {mlnet / fromView:F2}x the IDataView); "
            + $"of which reading the featurized rows {readOnly * 1e3:F1} ms, Transform (read + score) {transformOnly * 1e3:F1} ms");
        return 0;
    }

    // Reads one column of every row, as a consumer would, without keeping anything.
    private static void Drain(IDataView data, string column)
    {
        var col = data.Schema[column];
        using var cursor = data.GetRowCursor([col]);
        if (col.Type is VectorDataViewType { ItemType: KeyDataViewType })
        {
            var keys = cursor.GetGetter<VBuffer<uint>>(col);
            VBuffer<uint> k = default;
            while (cursor.MoveNext()) keys(ref k);
            return;
        }
        var getter = cursor.GetGetter<VBuffer<float>>(col);
        VBuffer<float> value = default;
        while (cursor.MoveNext()) getter(ref value);
    }

    // Best thread CPU time of a few runs, after one warm-up run.
    private static double Best(int repeats, Action run)
    {
        run();
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            double start = Training.ThreadCpuClock.NowMicroseconds();
            run();
            best = Math.Min(best, (Training.ThreadCpuClock.NowMicroseconds() - start) / 1e6);
        }
        return best;
    }
}
