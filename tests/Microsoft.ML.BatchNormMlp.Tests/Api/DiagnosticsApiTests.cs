using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;
using Microsoft.ML.BatchNormMlp.Training.Diagnostics;

namespace Microsoft.ML.BatchNormMlp.Tests.Api;

/// <summary>
/// Training diagnostics through the public trainer (<c>BatchNormMlpTrainer.Options.Diagnostics</c>, read back from
/// <c>TrainingSummary.Diagnostics</c>): present only when asked, the same figures as the engine's recorder, and
/// without any effect on the trained weights.
/// </summary>
public class DiagnosticsApiTests
{
    private static readonly MLContext Ml = new(seed: 1);

    private static BatchNormMlpTrainer.Options Options(TrainingDiagnosticsOptions? diagnostics, int steps = 12) => new()
    {
        Preset = "bn1", EmbeddingWidth = 4, HiddenWidths = [16, 16], Residual = true, Steps = steps, BatchSize = 16, LearningRate = 0.2f, Seed = 3,
        Diagnostics = diagnostics,
    };

    private static (ContextWindowTransformer Featurizer, IDataView Rows) Rows()
    {
        var names = Featurizers.View(TinyModels.Corpus);
        var featurizer = Ml.Transforms.Text.FeaturizeContextWindows().Fit(names);
        return (featurizer, featurizer.Transform(names));
    }

    private static BatchNormMlpTransformer Fit(BatchNormMlpTrainer.Options options) =>
        Ml.MulticlassClassification.Trainers.BatchNormMlp(options).Fit(Rows().Rows);

    [Test]
    public void Diagnostics_AreAbsentUnlessAsked_AndDoNotChangeTheWeights()
    {
        var plain = Fit(Options(null));
        var measured = Fit(Options(new TrainingDiagnosticsOptions { Interval = 5, HistogramBins = 8 }));
        Assert.That(plain.Training!.Diagnostics, Is.Null, "nothing is measured by default");
        var d = measured.Training!.Diagnostics!;
        Assert.That(d, Is.Not.Null);
        Assert.That(d.Losses, Has.Count.EqualTo(12), "every step's loss");
        Assert.That(d.Snapshots.Select(s => s.Step), Is.EqualTo(new[] { 0, 5, 10 }));
        Assert.That(d.Latest, Is.SameAs(d.Snapshots[^1]));
        Assert.That((double)d.Losses[^1], Is.EqualTo(measured.Training.LastBatchLoss).Within(1e-6));
        // Measuring reads the steps, it never steers them: the two models predict bit for bit alike.
        var rows = Rows().Rows;
        Assert.That(measured.Model.PredictLogits(rows), Is.EqualTo(plain.Model.PredictLogits(rows)));
        Assert.That(measured.Training.LastBatchLoss, Is.EqualTo(plain.Training.LastBatchLoss));
    }

    [Test]
    public void Snapshots_HoldEveryLayer_AndCountHistogramsSumToTheValuesBinned()
    {
        var t = Fit(Options(new TrainingDiagnosticsOptions { Interval = 4, HistogramBins = 10, LayerOutputs = true }));
        var s = t.Training!.Diagnostics!.Snapshots[1];
        Assert.That(s.Step, Is.EqualTo(4));
        Assert.That(s.Layers.Select(l => l.Name), Is.EqualTo(new[] { "hidden.0", "hidden.1" }));
        Assert.That(s.UpdateRatios.Select(u => u.Parameter), Is.EqualTo(TensorLayout.Expected(t.Configuration).Where(x => x.Role == TensorRole.Parameter).Select(x => x.Name)));
        Assert.That(s.UpdateRatios.All(u => double.IsFinite(u.Log10)), Is.True);
        foreach (var l in s.Layers)
        {
            Assert.That(l.Saturation, Is.InRange(0, 1));
            Assert.That(l.ActivationStd, Is.GreaterThan(0));
            Assert.That(double.IsFinite(l.GradientStd) && double.IsFinite(l.GradientToWeight), Is.True, "the backward figures are filled in");
        }
        const int batch = 16;
        for (int i = 0; i < 2; i++)
        {
            var h = s.Histograms![i];
            Assert.That(h.Activation!.Scale, Is.EqualTo(HistogramScale.Count));
            Assert.That(h.Activation.BinCount, Is.EqualTo(10));
            Assert.That(h.Activation.Heights.Sum(), Is.EqualTo(batch * 16), "each tanh output of the minibatch lands in one bin");
            Assert.That(h.Output.Heights.Sum(), Is.EqualTo(batch * 16));
            var g = h.WeightGradient!;
            Assert.That(g.Scale, Is.EqualTo(HistogramScale.Density));
            Assert.That(g.Heights.Sum() * (g.Edges[1] - g.Edges[0]), Is.EqualTo(1).Within(1e-9), "a density integrates to 1");
            // The kept outputs are the values the output histogram binned.
            var outputs = s.LayerOutputs![i];
            Assert.That(outputs.Length, Is.EqualTo(batch * 16));
            var rebinned = HistogramSeries.Compute("again", outputs.Span, 10);
            Assert.That(rebinned.Heights, Is.EqualTo(h.Output.Heights));
            Assert.That(rebinned.Edges, Is.EqualTo(h.Output.Edges));
        }
        Assert.That(t.Training.Diagnostics.Snapshots[0].Histograms, Is.Not.Null);
    }

    [Test]
    public void PublicResult_EqualsTheEnginesRecorder_ForTheSameRun()
    {
        var (featurizer, rows) = Rows();
        var options = Options(new TrainingDiagnosticsOptions { Interval = 3, Histograms = false });
        var t = Ml.MulticlassClassification.Trainers.BatchNormMlp(options).Fit(rows);

        // The same run on the engine: the trainer's resolved architecture, initialization and schedule.
        var data = featurizer.Transform(TinyModels.Corpus);
        var (config, init, training, seed) = options.Resolve(data.Vocabulary.Count, 3, null, 1);
        var net = new MlpNetwork(config);
        Initialization.Initialize(net, init, new Rng(seed));
        var recorder = new DiagnosticsRecorder(options.Diagnostics);
        new Trainer(net, training) { Observer = recorder }.Train(data.Rows);

        var d = t.Training!.Diagnostics!;
        Assert.That(d.Losses, Is.EqualTo(recorder.Losses));
        Assert.That(d.Snapshots.Count, Is.EqualTo(recorder.Snapshots.Count));
        for (int i = 0; i < d.Snapshots.Count; i++)
        {
            Assert.That(d.Snapshots[i].Layers, Is.EqualTo(recorder.Snapshots[i].Layers), $"snapshot {i}");
            Assert.That(d.Snapshots[i].UpdateRatios, Is.EqualTo(recorder.Snapshots[i].UpdateRatios), $"snapshot {i}");
        }
        Assert.That(d.Options.Interval, Is.EqualTo(3));
    }

    [Test]
    public void Result_IsImmutable_AndTheTrainerCopiesTheOptions()
    {
        var diagnostics = new TrainingDiagnosticsOptions { Interval = 4 };
        var trainer = Ml.MulticlassClassification.Trainers.BatchNormMlp(Options(diagnostics));
        diagnostics.Interval = 1;   // after the trainer was made: no effect
        var d = trainer.Fit(Rows().Rows).Training!.Diagnostics!;
        Assert.That(d.Snapshots.Select(s => s.Step), Is.EqualTo(new[] { 0, 4, 8 }));
        Assert.That(d.Losses, Is.Not.InstanceOf<float[]>(), "no array to write through");
        Assert.That(() => ((IList<float>)d.Losses)[0] = 0, Throws.InstanceOf<NotSupportedException>());
        Assert.That(() => ((IList<DiagnosticsSnapshot>)d.Snapshots).Clear(), Throws.InstanceOf<NotSupportedException>());
        Assert.That(() => ((IList<LayerStatistics>)d.Snapshots[0].Layers)[0] = null!, Throws.InstanceOf<NotSupportedException>());
        d.Options.Interval = 99;
        Assert.That(d.Options.Interval, Is.EqualTo(4), "Options hands out a copy");
    }

    [Test]
    public void TransformerKeepsTheSummary_ThroughFold()
    {
        var t = Fit(Options(new TrainingDiagnosticsOptions { Interval = 6, Histograms = false }));
        var folded = t.Fold();
        Assert.That(folded.IsFolded, Is.True);
        Assert.That(folded.Training, Is.SameAs(t.Training));
        Assert.That(((BatchNormCharacterModel)t.Model).Training, Is.SameAs(t.Training));
        Assert.That(folded.ParameterCount, Is.LessThan(t.ParameterCount));
    }

    [Test]
    public void Options_AreValidated_WithTheFieldAndItsRange()
    {
        var interval = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.MulticlassClassification.Trainers.BatchNormMlp(Options(new TrainingDiagnosticsOptions { Interval = 0 })));
        Assert.That(interval!.Message, Does.StartWith("TrainingDiagnosticsOptions.Interval must be between 1 and 100000000 steps; got 0."));
        Assert.That(interval.ParamName, Is.EqualTo("Interval"));
        var bins = Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingDiagnosticsOptions { HistogramBins = 10_001 }.Validate());
        Assert.That(bins!.Message, Does.StartWith("TrainingDiagnosticsOptions.HistogramBins must be between 1 and 10000; got 10001."));
        var options = Options(new TrainingDiagnosticsOptions());
        options.Engine = TrainingEngine.TorchSharp;
        var engine = Assert.Throws<ArgumentException>(() => Ml.MulticlassClassification.Trainers.BatchNormMlp(options));
        Assert.That(engine!.Message, Does.StartWith("BatchNormMlpTrainer.Options.Diagnostics read the managed engine's activations and gradients; they need BatchNormMlpTrainer.Options.Engine = Managed or Auto on the CPU (got TorchSharp on \"cpu\")."));
        Assert.That(options.Clone().Diagnostics, Is.Not.SameAs(options.Diagnostics), "Clone copies the diagnostics options");
    }

    [Test]
    public void HistogramSeries_ValidatesAndBinsLikeTorchHistogram()
    {
        var h = HistogramSeries.Compute("x", [0f, 0.1f, 0.5f, 0.99f, 1f, float.NaN, 7f], 2, 0, 1);
        Assert.That(h.Edges, Is.EqualTo(new[] { 0, 0.5, 1 }));
        Assert.That(h.Heights, Is.EqualTo(new double[] { 2, 3 }), "the maximum falls in the last bin; NaN and values outside the range are left out");
        Assert.That(h.ToString(), Is.EqualTo("x: 2 bins over [0, 1] (Count)"));
        var copy = new HistogramSeries("y", h.Edges, h.Heights, h.Scale);
        Assert.That(copy.Heights, Is.EqualTo(h.Heights));
        var order = Assert.Throws<ArgumentException>(() => new HistogramSeries("h", [0, 1, 1], [1, 2]));
        Assert.That(order!.Message, Does.StartWith("Histogram 'h': edge 2 (1) is not above edge 1 (1)."));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HistogramSeries("h", [0, 1], [1], (HistogramScale)7));
        Assert.Throws<ArgumentNullException>(() => new HistogramSeries(null!, [0, 1], [1]));
    }
}
