using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Tests.Api;

public class CharacterModelTests
{
    [Test]
    public void Training_OnNames_LearnsAndReportsProgress()
    {
        var t = TrainedModels.Get();
        var summary = t.Model.Training!;
        Assert.That(summary.Preset, Is.EqualTo("bn1"));
        Assert.That(summary.Steps, Is.EqualTo(TrainedModels.Steps));
        var dev = t.Model.Evaluate(t.Dev);
        // 1000 steps of bn1 already beat the uniform ln 27 = 3.30 by far (measured 2.42).
        Assert.That(dev.Loss, Is.LessThan(2.6));
        Assert.That(summary.ValidationLoss, Is.EqualTo(dev.Loss).Within(1e-4), "the trainer's dev loss and Evaluate agree");
        Assert.That(dev.Perplexity, Is.EqualTo(Math.Exp(dev.Loss)).Within(1e-12));
        Assert.That(dev.Count, Is.EqualTo(t.Dev.Count));
        Assert.That(dev.Top1Accuracy, Is.InRange(0.2, 0.5));
    }

    [Test]
    public void Evaluate_MatchesTheEnginesLoss_AndCountsTop1ByHand()
    {
        var t = TrainedModels.Get();
        var metrics = t.Model.Evaluate(t.Dev);
        Assert.That(metrics.Loss, Is.EqualTo(t.Model.Network.Evaluate(t.Dev.Rows)).Within(1e-5));

        // Top-1 accuracy counted row by row from the network's own probabilities, on the first 40 dev names.
        var slice = t.Featurizer.Transform(t.Split.Dev.Take(40));
        int hits = 0;
        for (int r = 0; r < slice.Count; r++)
        {
            var p = Probabilities(t.Model, slice.GetContext(r));
            if (Array.IndexOf(p, p.Max()) == slice.GetTarget(r)) hits++;
        }
        Assert.That(hits, Is.GreaterThan(slice.Count / 10));
        Assert.That(t.Model.Evaluate(slice).Top1Accuracy, Is.EqualTo((double)hits / slice.Count).Within(1e-12));
    }

    [Test]
    public void ParameterCount_CountsTrainedWeights_NotRunningStatistics_AndFoldingRemovesTheBatchNorm()
    {
        var t = TrainedModels.Get();
        // bn1 (PyTorch's count): embedding 27x10, hidden 30x200 without bias, BatchNorm scale and shift 2x200, output 200x27 + 27.
        Assert.That(t.Model.ParameterCount, Is.EqualTo(27 * 10 + 30 * 200 + 2 * 200 + 200 * 27 + 27).And.EqualTo(12_097));
        // Folded: the BatchNorm becomes the hidden layer's bias (200), its scale goes into the weights.
        Assert.That(t.Model.Fold().ParameterCount, Is.EqualTo(27 * 10 + 30 * 200 + 200 + 200 * 27 + 27));
    }

    [Test]
    public void PredictNext_IsADistribution_PaddedWithTheBoundaryLikeTraining()
    {
        var model = TrainedModels.Get().Model;
        var p = model.PredictNext("em");
        Assert.That(p, Has.Length.EqualTo(27));
        Assert.That(p.Sum(), Is.EqualTo(1f).Within(1e-5));
        Assert.That(p.All(v => v >= 0), Is.True);
        // Only the last ContextLength symbols matter: "xemm" and "emm" share the context "emm".
        Assert.That(model.PredictNext("xemm"), Is.EqualTo(model.PredictNext("emm")));
        // "" is the context "...", the start of a name: the boundary (an empty name) is unlikely there.
        var start = model.PredictNext("");
        Assert.That(start, Is.EqualTo(Probabilities(model, [0, 0, 0])));
        Assert.That(start[0], Is.LessThan(0.05f));
    }

    [Test]
    public void PredictLogits_AreTheRowsOfPredictNext_ForDataFeaturizedWithALoadedModelsVocabulary()
    {
        var t = TrainedModels.Get();
        // A featurizer rebuilt from the model's own vocabulary (what a tool does after loading a model file).
        var featurizer = new ContextWindowTransformer(t.Model.Vocabulary, t.Model.ContextLength, "Name", "Context", "Label");
        var data = featurizer.Transform(["emma", "li"]);
        var logits = t.Model.PredictLogits(data);
        Assert.That(logits, Has.Length.EqualTo(8 * 27));
        string[] prefixes = ["", "e", "em", "emm", "emma", "", "l", "li"];
        for (int r = 0; r < prefixes.Length; r++)
        {
            var row = logits.AsSpan(r * 27, 27).ToArray();
            var e = row.Select(l => Math.Exp(l - row.Max())).ToArray();
            var p = t.Model.PredictNext(prefixes[r]);
            for (int j = 0; j < 27; j++) Assert.That(e[j] / e.Sum(), Is.EqualTo(p[j]).Within(1e-5), $"row {r} ('{prefixes[r]}'), id {j}");
        }
        Assert.That(t.Model.Evaluate(featurizer.Transform(t.Split.Dev)), Is.EqualTo(t.Model.Evaluate(t.Dev)));
    }

    [Test]
    public void Score_IsTheSumOfTheNextSymbolLogProbabilities_EndIncluded()
    {
        var model = TrainedModels.Get().Model;
        var v = model.Vocabulary;
        var score = model.Score("ava");
        double expected = Math.Log(model.PredictNext("")[v.Encode("a")[0]]) + Math.Log(model.PredictNext("a")[v.Encode("v")[0]])
            + Math.Log(model.PredictNext("av")[v.Encode("a")[0]]) + Math.Log(model.PredictNext("ava")[Vocabulary.BoundaryId]);
        Assert.That(score.LogLikelihood, Is.EqualTo(expected).Within(1e-5));
        Assert.That(score.Predictions, Is.EqualTo(4));
        Assert.That(score.Perplexity, Is.EqualTo(Math.Exp(-score.LogLikelihood / 4)).Within(1e-9));
        Assert.That(score.Name, Is.EqualTo("ava"));
        // Name-like strings score better than consonant soup.
        Assert.That(model.Score("anna").Perplexity, Is.LessThan(model.Score("xqzkv").Perplexity));
        Assert.That(model.Score("").Predictions, Is.EqualTo(1));
    }

    [Test]
    public void ScoreBatch_AgreesWithScore_AcrossBlockBoundaries()
    {
        var t = TrainedModels.Get();
        // More rows than one block (4096), so that names straddle blocks.
        var names = t.Split.Dev.Take(800).ToArray();
        var batch = t.Model.ScoreBatch(names);
        Assert.That(batch, Has.Length.EqualTo(names.Length));
        for (int i = 0; i < names.Length; i += 37)
        {
            var single = t.Model.Score(names[i]);
            Assert.That(batch[i].Name, Is.EqualTo(names[i]));
            Assert.That(batch[i].Predictions, Is.EqualTo(names[i].Length + 1));
            Assert.That(batch[i].LogLikelihood, Is.EqualTo(single.LogLikelihood).Within(1e-4), names[i]);
        }
        // The rows' log-likelihoods add up to the data set's loss.
        var data = t.Featurizer.Transform(names);
        Assert.That(-batch.Sum(s => s.LogLikelihood) / data.Count, Is.EqualTo(t.Model.Evaluate(data).Loss).Within(1e-6));
        Assert.That(t.Model.ScoreBatch([]), Is.Empty);
    }

    [Test]
    public void UnknownSymbols_AreAnErrorNamingTheSymbolAndPosition_UnlessMappedToTheReservedId()
    {
        var model = TrainedModels.Get().Model;
        var ex = Assert.Throws<ArgumentException>(() => model.Score("zoë"));
        Assert.That(ex!.Message, Does.Contain("Symbol 'ë' (U+00EB) at character 3 of \"zoë\" is not in the vocabulary"));
        ex = Assert.Throws<ArgumentException>(() => model.PredictNext("Ann"));
        Assert.That(ex!.Message, Does.Contain("Symbol 'A' (U+0041) at character 1 of \"Ann\""));
        ex = Assert.Throws<ArgumentException>(() => model.ScoreBatch(["anna", "bo b"]));
        Assert.That(ex!.Message, Does.Contain("at character 3 of \"bo b\""));
        ex = Assert.Throws<ArgumentException>(() => model.Score("zoë", UnknownSymbolHandling.MapToUnknown));
        Assert.That(ex!.Message, Does.Contain("needs a vocabulary that reserves an unknown id"));

        var (_, tiny) = TinyModels.Train(unknownSymbol: "?");
        Assert.That(tiny.Vocabulary.UnknownSymbol, Is.EqualTo("?"));
        Assert.Throws<ArgumentException>(() => tiny.Score("zoë"));
        var mapped = tiny.Score("zoë", UnknownSymbolHandling.MapToUnknown);
        Assert.That(mapped.LogLikelihood, Is.EqualTo(tiny.Score("?o?", UnknownSymbolHandling.Error).LogLikelihood).Within(1e-9));
    }

    [Test]
    public void TheBoundarySymbol_CannotOccurInsideAName()
    {
        var model = TrainedModels.Get().Model;
        var ex = Assert.Throws<ArgumentException>(() => model.Score("an.na"));
        Assert.That(ex!.Message, Does.Contain("Character 3 of \"an.na\" is the boundary symbol '.'"));
        Assert.Throws<ArgumentException>(() => model.PredictNext("."));
    }

    [Test]
    public void Sample_IsDeterministicPerSeed_AndNameIDoesNotDependOnTheCount()
    {
        var model = TrainedModels.Get().Model;
        var a = model.Sample(20, seed: 7);
        Assert.That(model.Sample(20, seed: 7), Is.EqualTo(a));
        Assert.That(model.Sample(5, seed: 7), Is.EqualTo(a.Take(5)));
        Assert.That(model.Sample(20, seed: 8), Is.Not.EqualTo(a));
        Assert.That(a.Count(n => n.Length >= 2), Is.GreaterThan(12), string.Join(", ", a));
        Assert.That(model.Sample(0), Is.Empty);
    }

    [Test]
    public void Sample_EmitsOnlyVocabularySymbols_NeverTheUnknownOne_AndRespectsMaxLength()
    {
        var (_, tiny) = TinyModels.Train(unknownSymbol: "?", options: TinyModels.Options(steps: 5));
        // A hot temperature flattens the distribution so that every symbol, the unknown one included, would be drawn often.
        var names = tiny.Sample(300, seed: 1, temperature: 50f, maxLength: 12);
        var letters = TinyModels.Corpus.SelectMany(n => n).ToHashSet();
        Assert.That(names.SelectMany(n => n).All(letters.Contains), Is.True, "only corpus symbols");
        Assert.That(names.Any(n => n.Contains('?') || n.Contains('.')), Is.False);
        Assert.That(names.Max(n => n.Length), Is.EqualTo(12), "a flat distribution reaches the cap; nothing exceeds it");
        Assert.That(names.SelectMany(n => n).Distinct().Count(), Is.EqualTo(letters.Count), "every allowed symbol does occur");
    }

    [Test]
    public void Sample_TopKOfOne_IsGreedy()
    {
        var model = TrainedModels.Get().Model;
        var names = model.Sample(3, seed: 1, topK: 1, maxLength: 8);
        Assert.That(names.Distinct().Count(), Is.EqualTo(1), "greedy decoding ignores the seed's draws");
        string name = names[0], prefix = "";
        foreach (char c in name + ".")
        {
            var p = model.PredictNext(prefix);
            Assert.That(model.Vocabulary.GetSymbol(Array.IndexOf(p, p.Max())), Is.EqualTo(c.ToString()), $"after \"{prefix}\"");
            prefix += c;
            if (prefix.Length == 8) break;
        }
    }

    [TestCase(-1, 1f, 0, 10, "count must be between 0 and 1000000; got -1.")]
    [TestCase(1, 0f, 0, 10, "temperature must be in (0, 100]; got 0.")]
    [TestCase(1, float.NaN, 0, 10, "temperature must be in (0, 100]; got NaN.")]
    [TestCase(1, 1f, 28, 10, "topK must be between 0 (all symbols) and the vocabulary size 27; got 28.")]
    [TestCase(1, 1f, 0, 0, "maxLength must be between 1 and 10000; got 0.")]
    public void Sample_RejectsOutOfRangeArguments(int count, float temperature, int topK, int maxLength, string message)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => TrainedModels.Get().Model.Sample(count, 1, temperature, topK, maxLength));
        Assert.That(ex!.Message, Does.Contain(message));
    }

    [Test]
    public void Fit_IsDeterministicPerSeed()
    {
        var (_, a) = TinyModels.Train(seed: 4);
        var (_, b) = TinyModels.Train(seed: 4);
        var (_, c) = TinyModels.Train(seed: 5);
        Assert.That(b.PredictNext("an"), Is.EqualTo(a.PredictNext("an")));
        Assert.That(c.PredictNext("an"), Is.Not.EqualTo(a.PredictNext("an")));
    }

    /// <summary>The model's probabilities for one context of ids, straight from the network in evaluation mode.</summary>
    internal static float[] Probabilities(BatchNormCharacterModel model, int[] context)
    {
        var logits = model.Network.Forward(NetworkInput.Ids(context), 1, training: false).ToArray();
        float max = logits.Max();
        var e = logits.Select(l => Math.Exp(l - max)).ToArray();
        return e.Select(v => (float)(v / e.Sum())).ToArray();
    }

}
