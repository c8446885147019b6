using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Tests.Training;
using Microsoft.ML.BatchNormMlp.Training;
using Microsoft.ML.Data;

namespace Microsoft.ML.BatchNormMlp.Tests.Api;

/// <summary>
/// The public trainer on a dense feature column (a known-size vector of Single and a key label): MNIST-1D through
/// ML.NET reaches the engine's own figures, and the transformer scores, evaluates, folds, saves and loads.
/// </summary>
public class DenseInputTests
{
    private static readonly MLContext Ml = new(seed: 1);

    public sealed class Mnist1dRow
    {
        [LoadColumn(0), KeyType(10)]
        public uint Label;

        [LoadColumn(1, 40), VectorType(40)]
        public float[] Features = [];
    }

    public sealed class Point
    {
        [VectorType(4)]
        public float[] Features = [];

        [KeyType(3)]
        public uint Label;
    }

    private static string Mnist1dPath(string split) =>
        Path.Combine(Path.GetDirectoryName(NamesData.FindNamesFile())!, "mnist1d", $"mnist1d_{split}.csv");

    private static IDataView LoadMnist1d(string split) =>
        Ml.Data.LoadFromTextFile<Mnist1dRow>(Mnist1dPath(split), separatorChar: ',', hasHeader: true);

    // Three classes of four features: class c has feature c large; the rest noise. Separable, so a few steps learn it.
    private static IDataView Points(int count, int seed, float nan = 0)
    {
        var rng = new Random(seed);
        var rows = new List<Point>();
        for (int i = 0; i < count; i++)
        {
            int c = i % 3;
            var x = new float[4];
            for (int j = 0; j < 4; j++) x[j] = (float)(rng.NextDouble() - 0.5);
            x[c] += 2;
            if (i == 5 && nan != 0) x[2] = nan;
            rows.Add(new Point { Features = x, Label = (uint)c });   // ML.NET reads a [KeyType] member 0-based: key c + 1
        }
        return Ml.Data.LoadFromEnumerable(rows);
    }

    private static BatchNormMlpTrainer.Options PointOptions(string preset = "bn1") => new()
    {
        Preset = preset, FeatureColumnName = "Features", HiddenWidths = [8, 8], Steps = 60, BatchSize = 16, LearningRate = 0.1f, Seed = 2,
    };

    [Test]
    public void Mnist1d_ThroughTheMlNetTrainer_ReachesTheEnginesLoss_ForASeed()
    {
        var train = Ml.Data.Cache(LoadMnist1d("train"));
        var test = Ml.Data.Cache(LoadMnist1d("test"));
        const int steps = 30, seed = 1, dataSeed = 2147483647;
        var t = Ml.MulticlassClassification.Trainers.BatchNormMlp(new BatchNormMlpTrainer.Options
        {
            Preset = "mnist1d-res-bn", FeatureColumnName = "Features", Steps = steps, Seed = seed, DataSeed = dataSeed,
        }).Fit(train, test);

        // The engine alone: the preset, He init from Rng(seed), the sampler seeded with DataSeed; the CSV read by hand.
        var p = Presets.Get("mnist1d-res-bn");
        var net = new MlpNetwork(p.Config);
        Initialization.Initialize(net, p.Init, new Rng(seed));
        var result = new Trainer(net, p.Training with { Steps = steps, Seed = dataSeed }).Train(ReadCsv("train"), ReadCsv("test"));

        Assert.That(t.IsDenseInput, Is.True);
        Assert.That(t.Configuration with { HiddenWidths = p.Config.HiddenWidths }, Is.EqualTo(p.Config));
        Assert.That(t.Configuration.HiddenWidths, Is.EqualTo(p.Config.HiddenWidths));
        Assert.That(t.Training!.LastBatchLoss, Is.EqualTo(result.LastBatchLoss), "the same minibatches and weights, step for step");
        Assert.That(t.Training.ValidationLoss, Is.EqualTo(result.ValidationLoss));
        Assert.That(t.ParameterCount, Is.EqualTo(net.ParameterCount));
        // Without DataSeed the sampler has a stream of its own, derived from Seed: another trajectory.
        var other = Ml.MulticlassClassification.Trainers.BatchNormMlp(new BatchNormMlpTrainer.Options
        {
            Preset = "mnist1d-res-bn", FeatureColumnName = "Features", Steps = steps, Seed = seed,
        }).Fit(train);
        Assert.That(other.Training!.LastBatchLoss, Is.Not.EqualTo(result.LastBatchLoss));

        // Evaluate: the cross-entropy the engine measures; ML.NET's evaluator agrees on accuracy.
        var own = t.Evaluate(test);
        var (engineLoss, engineAccuracy) = net.Score(ReadCsv("test"));
        Assert.That(own.Loss, Is.EqualTo(engineLoss).Within(1e-5));
        Assert.That(own.Top1Accuracy, Is.EqualTo(engineAccuracy));
        Assert.That(own.Count, Is.EqualTo(1000));
        var metrics = Ml.MulticlassClassification.Evaluate(t.Transform(test));
        Assert.That(metrics.MicroAccuracy, Is.EqualTo(own.Top1Accuracy).Within(1e-12));
        Assert.That(metrics.LogLoss, Is.EqualTo(own.Loss).Within(1e-4), "no row is confidently wrong after 30 steps, so ML.NET's clipping does not bite");
    }

    private static Dataset ReadCsv(string split)
    {
        var lines = File.ReadAllLines(Mnist1dPath(split)).Skip(1).Where(l => l.Length > 0).ToArray();
        var x = new float[lines.Length * 40];
        var y = new int[lines.Length];
        for (int r = 0; r < lines.Length; r++)
        {
            var cells = lines[r].Split(',');
            y[r] = int.Parse(cells[0], System.Globalization.CultureInfo.InvariantCulture);
            for (int j = 0; j < 40; j++) x[r * 40 + j] = float.Parse(cells[j + 1], System.Globalization.CultureInfo.InvariantCulture);
        }
        return Dataset.FromDense(x, 40, y);
    }

    [Test]
    public void DenseTransformer_WritesScoresAndKeys_FoldsSavesAndLoads()
    {
        var data = Points(120, 1);
        var t = Ml.MulticlassClassification.Trainers.BatchNormMlp(PointOptions()).Fit(data);
        var scored = t.Transform(data);
        Assert.That(scored.Schema["Score"].Type, Is.EqualTo(new VectorDataViewType(NumberDataViewType.Single, 3)));
        Assert.That(scored.Schema["PredictedLabel"].Type, Is.EqualTo(new KeyDataViewType(typeof(uint), 3)));
        var scores = scored.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        var predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
        Assert.That(scores.All(s => Math.Abs(s.Sum() - 1) < 1e-5), Is.True, "probabilities");
        Assert.That(predicted.Select((p, i) => p == Array.IndexOf(scores[i], scores[i].Max()) + 1), Is.All.True);
        Assert.That(t.Evaluate(data).Top1Accuracy, Is.GreaterThan(0.9), "separable classes are learned");

        // A prediction engine (row by row) gives the lazy Transform's scores.
        var engine = Ml.Model.CreatePredictionEngine<Point, Scored>(t);
        var first = Ml.Data.CreateEnumerable<Point>(data, reuseRowObject: false).First();
        Assert.That(engine.Predict(first).Score, Is.EqualTo(scores[0]));

        var folded = t.Fold();
        Assert.That(folded.IsFolded && folded.IsDenseInput, Is.True);
        var foldedScores = folded.Transform(data).GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        for (int i = 0; i < scores.Length; i++) Assert.That(foldedScores[i], Is.EqualTo(scores[i]).Within(1e-5), $"row {i}");

        string file = Path.Combine(Path.GetTempPath(), $"bnmlp-dense-{Guid.NewGuid():N}.safetensors");
        try
        {
            t.Save(file);
            var loaded = BatchNormMlpTransformer.Load(file, "Features");
            Assert.That(loaded.IsDenseInput && !loaded.IsFolded, Is.True);
            Assert.That(loaded.Training, Is.Null);
            Assert.That(loaded.Transform(data).GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()), Is.EqualTo(scores), "bit-identical after loading");
            Assert.That(() => CharacterModel.Load(file), Throws.InstanceOf<ModelFormatException>().With.Message.Contains("dense-input model"));
            folded.Save(file);
            Assert.That(BatchNormMlpTransformer.Load(file, "Features").IsFolded, Is.True);
        }
        finally { File.Delete(file); }
    }

    public sealed class Scored
    {
        public float[] Score = [];
    }

    [Test]
    public void DenseTransformer_HasNoCharacterModel_AndSaysWhy()
    {
        var t = Ml.MulticlassClassification.Trainers.BatchNormMlp(PointOptions()).Fit(Points(60, 2));
        var e = Assert.Throws<InvalidOperationException>(() => _ = t.Model);
        Assert.That(e!.Message, Does.StartWith("This transformer classifies dense feature vectors (column 'Features', 4 features, 3 classes); it has no character model."));
        Assert.That(t.Configuration.DenseInputWidth, Is.EqualTo(4));
        Assert.That(t.Configuration.OutputWidth, Is.EqualTo(3));
    }

    [Test]
    public void DenseInput_RefusesWhatDoesNotFit_NamingTheColumnAndRow()
    {
        var trainer = Ml.MulticlassClassification.Trainers.BatchNormMlp(PointOptions());
        var nan = Assert.Throws<ArgumentException>(() => trainer.Fit(Points(30, 3, nan: float.NaN)));
        Assert.That(nan!.Message, Does.StartWith("Column 'Features', row 5 of the training data: feature 2 is NaN; every feature must be a finite number."));

        var withEmbedding = PointOptions();
        withEmbedding.EmbeddingWidth = 4;
        var embedding = Assert.Throws<ArgumentException>(() => Ml.MulticlassClassification.Trainers.BatchNormMlp(withEmbedding).Fit(Points(30, 3)));
        Assert.That(embedding!.Message, Does.StartWith("BatchNormMlpTrainer.Options.EmbeddingWidth applies to contexts of keys, but column 'Features' holds dense feature vectors; leave it unset."));

        var floatLabel = Ml.Data.LoadFromEnumerable(new[] { new FloatLabel { Features = [1, 2], Label = 1 }, new FloatLabel { Features = [2, 1], Label = 0 } });
        var label = Assert.Throws<ArgumentException>(() => trainer.Fit(floatLabel));
        Assert.That(label!.Message, Does.StartWith("Column 'Label' (the label) of the training data must be a UInt32 key of the class; it is Single."));

        var t = trainer.Fit(Points(30, 3));
        var narrow = Ml.Data.LoadFromEnumerable(new[] { new FloatLabel { Features = [1, 2], Label = 1 } });
        var width = Assert.Throws<ArgumentException>(() => t.Transform(narrow));
        Assert.That(width!.Message, Does.StartWith("Column 'Features' must be a vector of 4 Single features, as the model was trained on; it is Vector<Single, 2>."));

        // A dense preset on a context column.
        var names = Featurizers.View(TinyModels.Corpus);
        var rows = Ml.Transforms.Text.FeaturizeContextWindows().Fit(names).Transform(names);
        var preset = Assert.Throws<ArgumentException>(() => Ml.MulticlassClassification.Trainers.BatchNormMlp(new BatchNormMlpTrainer.Options { Preset = "mnist1d-res", Steps = 2 }).Fit(rows));
        Assert.That(preset!.Message, Does.StartWith("BatchNormMlpTrainer.Options.Preset 'mnist1d-res' is for dense feature vectors (a known-size vector of Single), but column 'Context' holds contexts of keys; use one of bn1, plain1"));
        Assert.That(CharacterModelDefaults.DenseInputPresets, Is.EqualTo(new[] { "mnist1d-res", "mnist1d-res-bn" }));
        Assert.That(CharacterModelDefaults.DescribePreset("mnist1d-res"), Does.StartWith("MNIST-1D"));
    }

    public sealed class FloatLabel
    {
        [VectorType(2)]
        public float[] Features = [];

        public float Label;
    }

    [Test]
    public void GetOutputSchema_AcceptsADenseFeatureVector()
    {
        var trainer = Ml.MulticlassClassification.Trainers.BatchNormMlp(PointOptions());
        var input = MlNet.SchemaShapes.With(new SchemaShape([]),
            new MlNet.SchemaShapes.Added("Features", MlNet.SchemaShapes.ShapeMember.Vector, new VectorDataViewType(NumberDataViewType.Single, 4)),
            new MlNet.SchemaShapes.Added("Label", MlNet.SchemaShapes.ShapeMember.Key, new KeyDataViewType(typeof(uint), 3)));
        var shape = trainer.GetOutputSchema(input);
        Assert.That(shape.Select(c => c.Name), Is.EquivalentTo(new[] { "Features", "Label", "Score", "PredictedLabel" }));
    }
}
