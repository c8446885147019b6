namespace Microsoft.ML.BatchNormMlp.Tests.Api;

/// <summary>
/// Ensembles through the public trainer (<c>BatchNormMlpTrainer.Options.EnsembleMembers</c>) and
/// <c>BatchNormCharacterModel.Merge</c>: the fitted model is the merge of the single runs of consecutive seeds, and
/// what cannot combine says so.
/// </summary>
public class EnsembleApiTests
{
    private static readonly MLContext Ml = new(seed: 1);

    private static BatchNormMlpTrainer.Options Options(int members, int seed) => new()
    {
        Preset = "bn1", EmbeddingWidth = 4, HiddenWidths = [16, 16], Residual = true, Steps = 30, BatchSize = 16, LearningRate = 0.2f,
        Seed = seed, DataSeed = seed, EnsembleMembers = members,
    };

    private static IDataView Rows()
    {
        var names = Featurizers.View(TinyModels.Corpus);
        return Ml.Transforms.Text.FeaturizeContextWindows().Fit(names).Transform(names);
    }

    [Test]
    public void EnsembleMembers_FitsTheMergeOfTheSingleRunsOfConsecutiveSeeds()
    {
        var rows = Rows();
        var ensemble = (BatchNormCharacterModel)Ml.MulticlassClassification.Trainers.BatchNormMlp(Options(2, seed: 3)).Fit(rows).Model;
        Assert.That(ensemble.Configuration.HiddenWidths, Is.EqualTo(new[] { 32, 32 }));
        // The members by hand: one run at seed 3 (data seed 3), one at seed 4 (data seed 4), merged.
        var members = new[] { 3, 4 }.Select(s => (BatchNormCharacterModel)Ml.MulticlassClassification.Trainers.BatchNormMlp(Options(1, s)).Fit(rows).Model).ToArray();
        var merged = BatchNormCharacterModel.Merge(members);
        float[] got = ensemble.PredictLogits(rows), expected = merged.PredictLogits(rows);
        Assert.That(got, Is.EqualTo(expected), "the fitted ensemble is the merge of the single runs");
        // And the merged model is the mean of the members' logits.
        float[] a = members[0].PredictLogits(rows), b = members[1].PredictLogits(rows);
        for (int i = 0; i < got.Length; i++) Assert.That(got[i], Is.EqualTo((a[i] + b[i]) / 2).Within(1e-5f * Math.Max(1, Math.Abs(got[i]))), $"logit {i}");
    }

    [Test]
    public void Refused_DiagnosticsWithAnEnsemble_AndMembersOfAnotherArchitectureOrVocabulary()
    {
        var rows = Rows();
        var options = Options(2, 3);
        options.Diagnostics = new TrainingDiagnosticsOptions();
        var ex = Assert.Throws<ArgumentException>(() => Ml.MulticlassClassification.Trainers.BatchNormMlp(options).Fit(rows));
        Assert.That(ex!.Message, Does.Contain("do not combine with EnsembleMembers = 2"));

        var small = (BatchNormCharacterModel)Ml.MulticlassClassification.Trainers.BatchNormMlp(Options(1, 3)).Fit(rows).Model;
        var wide = Options(1, 3); wide.HiddenWidths = [16, 8];
        var other = (BatchNormCharacterModel)Ml.MulticlassClassification.Trainers.BatchNormMlp(wide).Fit(rows).Model;
        ex = Assert.Throws<ArgumentException>(() => BatchNormCharacterModel.Merge([small, other]));
        Assert.That(ex!.Message, Does.Contain("Model 1 has another architecture than model 0"));
        Assert.Throws<ArgumentException>(() => BatchNormCharacterModel.Merge([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ml.MulticlassClassification.Trainers.BatchNormMlp(Options(65, 3)).Fit(rows));
    }
}
