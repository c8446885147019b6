using Microsoft.ML.BatchNormMlp.MlNet;
using Microsoft.ML.BatchNormMlp.Tests.Featurization;
using Microsoft.ML.Data;

namespace Microsoft.ML.BatchNormMlp.Tests.Api;

/// <summary>The library as an ML.NET extension: featurizer, trainer and transformer on MLContext, end to end.</summary>
public class MlNetPipelineTests
{
    private static readonly MLContext Ml = new(seed: 1);

    [Test]
    public void Featurizer_WritesTheSeedsRows_AsKeyColumns_AndRepeatsOtherColumns()
    {
        var input = Ml.Data.LoadFromEnumerable(new[] { new Tagged { Name = "emma", Tag = 7 }, new Tagged { Name = "ava", Tag = 9 } });
        var featurizer = Ml.Transforms.Text.FeaturizeContextWindows().Fit(input);
        Assert.That(featurizer.Vocabulary.Symbols, Is.EqualTo(new[] { ".", "a", "e", "m", "v" }));
        var rows = featurizer.Transform(input);

        var context = rows.Schema["Context"];
        Assert.That(context.Type, Is.EqualTo(new VectorDataViewType(new KeyDataViewType(typeof(uint), 5), 3)));
        Assert.That(rows.Schema["Label"].Type, Is.EqualTo(new KeyDataViewType(typeof(uint), 5)));
        VBuffer<ReadOnlyMemory<char>> keyValues = default;
        context.GetKeyValues(ref keyValues);
        Assert.That(keyValues.DenseValues().Select(v => v.ToString()), Is.EqualTo(featurizer.Vocabulary.Symbols));

        var contexts = rows.GetColumn<VBuffer<uint>>("Context").Select(v => v.DenseValues().Select(k => (int)k - 1).ToArray()).ToArray();
        var labels = rows.GetColumn<uint>("Label").Select(k => (int)k - 1).ToArray();
        var tags = rows.GetColumn<int>("Tag").ToArray();
        // emma: 5 rows, ava: 4 rows; key value = id + 1.
        Assert.That(labels, Is.EqualTo(new[] { 2, 3, 3, 1, 0, 1, 4, 1, 0 }));
        Assert.That(contexts[0], Is.EqualTo(new[] { 0, 0, 0 }));
        Assert.That(contexts[4], Is.EqualTo(new[] { 3, 3, 1 }), "..emma's last context is 'mma'");
        Assert.That(contexts[8], Is.EqualTo(new[] { 1, 4, 1 }));
        Assert.That(tags, Is.EqualTo(new[] { 7, 7, 7, 7, 7, 9, 9, 9, 9 }), "a name's rows repeat its other columns");
        // What the engine's own featurizer makes of the same names.
        var engine = featurizer.Transform(["emma", "ava"]);
        Assert.That(contexts.SelectMany(c => c), Is.EqualTo(engine.Windows.Contexts));
        Assert.That(labels, Is.EqualTo(engine.Windows.Targets));
    }

    [Test]
    public void Featurizer_OnNamesTxt_GivesTheSeedsRowCounts_AndTheSeedsSplit()
    {
        var t = TrainedModels.Get();
        Assert.That(t.Featurizer.Vocabulary.Count, Is.EqualTo(27));
        Assert.That(t.Views.TrainSet.GetColumn<ReadOnlyMemory<char>>("Name").First().ToString(), Is.EqualTo("yuheng"), "Python's random.seed(42); random.shuffle(words)");
        Assert.That((Count(t.Views.TrainSet), Count(t.Views.DevSet), Count(t.Views.TestSet)), Is.EqualTo((25626, 3203, 3204)));
        Assert.That((Count(t.TrainView), Count(t.DevView)), Is.EqualTo((182625, 22655)));
    }

    [Test]
    public void Evaluate_LogLossIsTheModelsCrossEntropy_AndAccuracyItsTop1()
    {
        var t = TrainedModels.Get();
        var metrics = t.Ml.MulticlassClassification.Evaluate(t.Transformer.Transform(t.DevView));
        var own = t.Model.Evaluate(t.Dev);
        TestContext.Out.WriteLine($"ML.NET LogLoss {metrics.LogLoss:F6}, model {own.Loss:F6}; accuracy {metrics.MicroAccuracy:F6} vs {own.Top1Accuracy:F6}");
        Assert.That(metrics.LogLoss, Is.EqualTo(own.Loss).Within(1e-4));
        Assert.That(metrics.MicroAccuracy, Is.EqualTo(own.Top1Accuracy).Within(1e-9));
        Assert.That(t.Model.Evaluate(t.DevView).Loss, Is.EqualTo(own.Loss), "Evaluate(IDataView) reads the same rows");
        Assert.That(t.Model.Training!.ValidationLoss, Is.EqualTo(own.Loss).Within(1e-6), "the trainer reported the dev loss of Fit(train, dev)");
    }

    [Test]
    public void PredictionEngine_AnswersWhichSymbolFollowsAPrefix()
    {
        var t = TrainedModels.Get();
        var engine = t.Ml.Model.CreatePredictionEngine<PrefixInput, NextSymbol>(t.Featurizer.ForPrefixes().Append(t.Transformer));
        foreach (string prefix in new[] { "", "e", "emm", "christoph" })
        {
            var next = engine.Predict(new PrefixInput { Prefix = prefix });
            var expected = t.Model.PredictNext(prefix);
            Assert.That(next.Score, Is.EqualTo(expected).Within(1e-6), prefix);
            Assert.That(next.PredictedLabel, Is.EqualTo((uint)Array.IndexOf(expected, expected.Max()) + 1), prefix);
        }
        // The estimator form gives the same mapping, and MapKeyToValue prints the predicted symbol.
        var view = t.Ml.Data.LoadFromEnumerable(new[] { new PrefixInput { Prefix = "emm" } });
        var chain = t.Ml.Transforms.Text.MapPrefixToContext(t.Featurizer).Fit(view).Append(t.Transformer)
            .Append(t.Ml.Transforms.Conversion.MapKeyToValue("Symbol", "PredictedLabel").Fit(t.Transformer.Transform(t.Featurizer.ForPrefixes().Transform(view))));
        string symbol = chain.Transform(view).GetColumn<ReadOnlyMemory<char>>("Symbol").Single().ToString();
        var p = t.Model.PredictNext("emm");
        Assert.That(symbol, Is.EqualTo(t.Model.Vocabulary.Symbols[Array.IndexOf(p, p.Max())]));
    }

    [Test]
    public void EstimatorChain_FitsFeaturizerAndTrainer_InOnePipeline()
    {
        var names = Featurizers.View(TinyModels.Corpus);
        var options = TinyModels.Options(steps: 50);
        options.Seed = 3;
        var pipeline = Ml.Transforms.Text.FeaturizeContextWindows()
            .Append(Ml.MulticlassClassification.Trainers.BatchNormMlp(options))
            .Append(Ml.Transforms.Conversion.MapKeyToValue("PredictedSymbol", "PredictedLabel"));
        var schema = pipeline.GetOutputSchema(MlNetBadInputTests.Shape(("Name", DataKind.String)));
        Assert.That(schema.Select(c => c.Name), Is.SupersetOf(new[] { "Name", "Context", "Label", "Score", "PredictedLabel", "PredictedSymbol" }));
        var fitted = pipeline.Fit(names);
        var scored = fitted.Transform(names);
        var metrics = Ml.MulticlassClassification.Evaluate(scored);
        Assert.That(metrics.LogLoss, Is.LessThan(Math.Log(16) - 0.3), "50 steps on 16 names learned something");
        Assert.That(scored.GetColumn<ReadOnlyMemory<char>>("PredictedSymbol").Select(s => s.ToString()).Distinct(), Is.SubsetOf(TinyModels.Corpus.SelectMany(n => n.Select(c => c.ToString())).Append(".").Distinct()));

        // Same seed, same model: deterministic through the pipeline too.
        var again = pipeline.Fit(names).Transform(names).GetColumn<VBuffer<float>>("Score").SelectMany(v => v.DenseValues());
        Assert.That(again, Is.EqualTo(scored.GetColumn<VBuffer<float>>("Score").SelectMany(v => v.DenseValues())));
    }

    [Test]
    public void Options_CarryValidationProgressAndCancellation()
    {
        var featurizer = Featurizers.Fit(TinyModels.Corpus);
        var rows = featurizer.Transform(Featurizers.View(TinyModels.Corpus));
        var reports = new List<TrainingProgressReport>();
        var options = TinyModels.Options(steps: 40);
        options.ProgressInterval = 10;
        options.ValidationInterval = 20;
        options.ValidationData = rows;
        options.Progress = new SyncProgress(reports.Add);
        var model = Ml.MulticlassClassification.Trainers.BatchNormMlp(options).Fit(rows);
        Assert.That(reports.Select(r => r.Step), Is.EqualTo(new[] { 10, 20, 30, 40 }));
        Assert.That(reports[0].ValidationLoss, Is.Null);
        Assert.That(reports[1].ValidationLoss, Is.Not.Null);
        Assert.That(((BatchNormCharacterModel)model.Model).Training!.ValidationLoss, Is.EqualTo(reports[^1].ValidationLoss));

        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        options.CancellationToken = cancel.Token;
        Assert.Throws<OperationCanceledException>(() => Ml.MulticlassClassification.Trainers.BatchNormMlp(options).Fit(rows));
    }

    [Test]
    public void OwnFiles_RoundTripTheFeaturizerAndTheModel_BitIdentically()
    {
        var t = TrainedModels.Get();
        using var dir = new TempDirectory();
        string featurizerFile = Path.Combine(dir.Path, "featurizer.json"), modelFile = Path.Combine(dir.Path, "model.safetensors");
        t.Featurizer.Save(featurizerFile);
        t.Transformer.Save(modelFile);
        var featurizer = ContextWindowTransformer.Load(featurizerFile);
        var model = BatchNormMlpTransformer.Load(modelFile);
        Assert.That((featurizer.ContextLength, featurizer.InputColumnName, featurizer.OutputColumnName, featurizer.LabelColumnName), Is.EqualTo((3, "Name", "Context", "Label")));
        var before = t.Transformer.Transform(t.Featurizer.Transform(t.Views.DevSet)).GetColumn<VBuffer<float>>("Score").SelectMany(v => v.DenseValues()).ToArray();
        var after = model.Transform(featurizer.Transform(t.Views.DevSet)).GetColumn<VBuffer<float>>("Score").SelectMany(v => v.DenseValues()).ToArray();
        Assert.That(after, Is.EqualTo(before), "bit-identical scores after save and load");

        File.WriteAllText(featurizerFile, "{\"format\":\"bnmlp-featurizer/9\"}");
        var ex = Assert.Throws<ModelFormatException>(() => ContextWindowTransformer.Load(featurizerFile));
        Assert.That(ex!.Message, Does.Contain(featurizerFile).And.Contain("expected 'bnmlp-featurizer/1'"));
    }

    [Test]
    public void MlNetModelZip_RefusesOurTransformers_SayingWhyAndWhatToDoInstead()
    {
        var t = TrainedModels.Get();
        using var dir = new TempDirectory();
        var ex = Assert.Catch(() => t.Ml.Model.Save(t.Transformer, t.DevView.Schema, Path.Combine(dir.Path, "model.zip")));
        Assert.That(ex!.ToString(), Does.Contain("ModelSaveContext and ModelLoadContext are internal").And.Contain("ApplyOnnxModel"));
    }

    [Test]
    public void MlNetLoaders_AndTrainTestSplit_FeedTheFeaturizer()
    {
        var fromText = Ml.Data.LoadFromTextFile<NameLine>(TestData.NamesPath, hasHeader: false);
        var split = Ml.Data.TrainTestSplit(fromText, testFraction: 0.1, seed: 1);
        var featurizer = Ml.Transforms.Text.FeaturizeContextWindows().Fit(split.TrainSet);
        Assert.That(featurizer.Vocabulary.Symbols, Is.EqualTo(TrainedModels.Get().Featurizer.Vocabulary.Symbols));
        Assert.That(Count(featurizer.Transform(split.TestSet)), Is.GreaterThan(15000));
    }

    private static long Count(IDataView data)
    {
        long n = 0;
        using var cursor = data.GetRowCursor([]);
        while (cursor.MoveNext()) n++;
        return n;
    }

    private sealed class Tagged
    {
        public string Name { get; set; } = "";
        public int Tag { get; set; }
    }

    private sealed class NameLine
    {
        [LoadColumn(0)] public string Name { get; set; } = "";
    }

    private sealed class PrefixInput
    {
        public string Prefix { get; set; } = "";
    }

    private sealed class NextSymbol
    {
        public float[] Score { get; set; } = [];

        public uint PredictedLabel { get; set; }
    }

    private sealed class SyncProgress(Action<TrainingProgressReport> report) : IProgress<TrainingProgressReport>
    {
        public void Report(TrainingProgressReport value) => report(value);
    }
}

/// <summary>Route (b) of persistence: the folded model as ONNX in a scoring pipeline that ML.NET itself saves and loads.</summary>
public class MlNetOnnxRouteTests
{
    [Test]
    public void FoldedOnnx_InAnMlNetZip_ScoresEveryDevContextLikeTheManagedModel()
    {
        var t = TrainedModels.Get();
        var ml = t.Ml;
        using var dir = new TempDirectory();
        string onnx = Path.Combine(dir.Path, "names.onnx"), zip = Path.Combine(dir.Path, "names.zip");
        t.Transformer.ExportOnnx(onnx);
        var scoring = ml.Transforms.Conversion.ConvertType("ids", "Context", DataKind.UInt32)
            .Append(ml.Transforms.ApplyOnnxModel(outputColumnNames: ["probabilities"], inputColumnNames: ["ids"], modelFile: onnx))
            .Fit(t.DevView);
        ml.Model.Save(scoring, t.DevView.Schema, zip);
        File.Delete(onnx);   // the zip carries the model
        var reloaded = ml.Model.Load(zip, out _);

        var onnxScores = reloaded.Transform(t.DevView).GetColumn<float[]>("probabilities").ToArray();
        var managed = t.Transformer.Transform(t.DevView).GetColumn<float[]>("Score").ToArray();
        Assert.That(onnxScores, Has.Length.EqualTo(22655));
        double worst = 0;
        for (int r = 0; r < managed.Length; r++)
            for (int j = 0; j < managed[r].Length; j++) worst = Math.Max(worst, Math.Abs(onnxScores[r][j] - managed[r][j]));
        TestContext.Out.WriteLine($"max |ONNX in ML.NET zip - managed Score| over {managed.Length} dev contexts: {worst:E2}");
        Assert.That(worst, Is.LessThanOrEqualTo(1e-5));
    }
}
