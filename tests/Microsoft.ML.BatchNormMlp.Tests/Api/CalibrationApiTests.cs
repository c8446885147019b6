using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Tests.Api;

/// <summary>
/// BatchNorm statistics and calibration on the public model (<c>BatchNormCharacterModel.BatchNormStatistics</c>,
/// <c>Calibrate</c>), batch logits (<c>CharacterModel.PredictLogits</c>) and the data seed, against the engine.
/// </summary>
public class CalibrationApiTests
{
    private static readonly MLContext Ml = new(seed: 1);

    private static (ContextWindowTransformer Featurizer, IDataView Rows, BatchNormMlpTransformer Transformer) Train(BatchNormMlpTrainer.Options? options = null)
    {
        var names = Featurizers.View(TinyModels.Corpus);
        var featurizer = Ml.Transforms.Text.FeaturizeContextWindows().Fit(names);
        var rows = featurizer.Transform(names);
        var o = options ?? TinyModels.Options(steps: 40);
        o.Seed ??= 3;
        return (featurizer, rows, Ml.MulticlassClassification.Trainers.BatchNormMlp(o).Fit(rows));
    }

    [Test]
    public void Calibrate_ReturnsANewModel_WithTheEnginesCalibratedStatistics()
    {
        var (featurizer, rows, t) = Train();
        var trained = (BatchNormCharacterModel)t.Model;
        var running = trained.BatchNormStatistics.Single();
        Assert.That(running.Layer, Is.EqualTo("hidden.0.norm"));
        Assert.That(running.RunningMean, Has.Count.EqualTo(16));
        var before = trained.Evaluate(rows);

        var calibrated = trained.Calibrate(rows);
        Assert.That(calibrated, Is.Not.SameAs(trained));
        Assert.That(trained.BatchNormStatistics.Single().RunningMean, Is.EqualTo(running.RunningMean), "the trained model keeps its running statistics");
        Assert.That(trained.Evaluate(rows), Is.EqualTo(before));
        Assert.That(calibrated.Training, Is.SameAs(trained.Training));

        // The engine's calibration of the same weights over the same rows.
        var net = BatchNormCharacterModel.NetworkFromState(trained.ToModelState());
        net.Calibrate(featurizer.Transform(TinyModels.Corpus).Rows);
        var full = calibrated.BatchNormStatistics.Single();
        Assert.That(full.RunningMean, Is.EqualTo(net.Norms[0]!.RunningMean.Data));
        Assert.That(full.RunningVariance, Is.EqualTo(net.Norms[0]!.RunningVar.Data));
        Assert.That(full.RunningMean, Is.Not.EqualTo(running.RunningMean), "40 steps of momentum 0.1 do not reach the full-set mean");
        Assert.That(calibrated.Evaluate(rows).Loss, Is.Not.EqualTo(before.Loss));
    }

    [Test]
    public void Calibrate_AndStatistics_WithoutBatchNorm()
    {
        var options = TinyModels.Options(steps: 5);
        options.Preset = "plain1";
        var (_, rows, t) = Train(options);
        var model = (BatchNormCharacterModel)t.Model;
        Assert.That(model.BatchNormStatistics, Is.Empty);
        var e = Assert.Throws<InvalidOperationException>(() => model.Calibrate(rows));
        Assert.That(e!.Message, Is.EqualTo("The model has no BatchNorm layer: there are no statistics to calibrate."));
        Assert.That(() => ((IList<float>)((BatchNormCharacterModel)Train().Transformer.Model).BatchNormStatistics[0].RunningMean)[0] = 1, Throws.InstanceOf<NotSupportedException>());
    }

    [Test]
    public void Calibrate_AndPredictLogits_RefuseRowsOfAnotherFeaturizer()
    {
        var (_, _, t) = Train();
        var model = (BatchNormCharacterModel)t.Model;
        var other = Featurizers.View(["xyz"]);
        var rows = Ml.Transforms.Text.FeaturizeContextWindows().Fit(other).Transform(other);
        var calibrate = Assert.Throws<ArgumentException>(() => model.Calibrate(rows));
        Assert.That(calibrate!.Message, Does.StartWith("Column 'Context' was made with another vocabulary"));
        var wider = Ml.Transforms.Text.FeaturizeContextWindows(contextLength: 5).Fit(Featurizers.View(TinyModels.Corpus)).Transform(Featurizers.View(TinyModels.Corpus));
        var logits = Assert.Throws<ArgumentException>(() => model.PredictLogits(wider));
        Assert.That(logits!.Message, Does.StartWith("Column 'Context' holds contexts of 5 symbols but the model reads 3."));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.PredictLogits(rows, "Missing"));
    }

    [Test]
    public void PredictLogits_AreTheModelsLogitsRowByRow_AndFoldingKeepsThem()
    {
        var (featurizer, rows, t) = Train();
        var logits = t.Model.PredictLogits(rows);
        var engine = t.Model.PredictLogits(featurizer.Transform(TinyModels.Corpus));
        Assert.That(logits, Is.EqualTo(engine));
        int k = t.Model.Vocabulary.Count;
        var first = t.Model.PredictNext("");
        var softmax = logits.Take(k).Select(v => Math.Exp(v - logits.Take(k).Max())).ToArray();
        Assert.That(first, Is.EqualTo(softmax.Select(v => v / softmax.Sum())).Within(1e-6), "row 0 is the first symbol of the first name");
        var folded = t.Fold().Model.PredictLogits(rows);
        Assert.That(folded, Is.EqualTo(logits).Within(1e-4));
    }

    [Test]
    public void DataSeed_SeedsTheMinibatchesAlone()
    {
        BatchNormMlpTrainer.Options Seeded(int seed, int? dataSeed)
        {
            var o = TinyModels.Options(steps: 10);
            o.Seed = seed;
            o.DataSeed = dataSeed;
            return o;
        }
        Assert.That(Seeded(3, null).Resolve(27, 3, null, 1).Training.Seed, Is.EqualTo(3UL + 0x9E3779B97F4A7C15UL), "derived from Seed by default");
        var (config, init, training, seed) = Seeded(3, 11).Resolve(27, 3, null, 1);
        Assert.That((training.Seed, seed), Is.EqualTo((11UL, 3UL)));
        Assert.That(Seeded(3, -1).Resolve(27, 3, null, 1).Training.Seed, Is.EqualTo((ulong)uint.MaxValue), "negative seeds wrap as Seed does");

        double Loss(int seed, int? dataSeed) => Train(Seeded(seed, dataSeed)).Transformer.Training!.LastBatchLoss;
        Assert.That(Loss(3, 11), Is.EqualTo(Loss(3, 11)));
        Assert.That(Loss(3, 11), Is.Not.EqualTo(Loss(3, 12)), "another data order");
        Assert.That(Loss(3, 11), Is.Not.EqualTo(Loss(4, 11)), "another initialization");
    }
}
