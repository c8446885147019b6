namespace Microsoft.ML.BatchNormMlp.Tests.Api;

/// <summary>Issue 4's folding contract on a trained model, over every context of names.txt.</summary>
public class FoldingAgreementTests
{
    [Test]
    public void FoldedModel_AgreesWithTheUnfoldedOne_OnEveryContextOfNames()
    {
        var t = TrainedModels.Get();
        var folded = t.Model.Fold();
        var all = t.Featurizer.Transform(t.Names);
        Assert.That(all.Count, Is.EqualTo(228146));

        var a = t.Model.PredictLogits(all);
        var b = folded.PredictLogits(all);
        Assert.That(a, Has.Length.EqualTo(all.Count * 27));
        double worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs((double)a[i] - b[i]));
        double dev = t.Model.Evaluate(t.Dev).Loss, foldedDev = folded.Evaluate(t.Dev).Loss;
        TestContext.Out.WriteLine($"{all.Count} contexts: max |logit difference| {worst:E2}; dev loss unfolded {dev:F6}, folded {foldedDev:F6}");

        Assert.That(worst, Is.LessThanOrEqualTo(1e-4));
        Assert.That(worst, Is.GreaterThan(0), "folding changes the arithmetic; an exact match would mean the same model ran twice");
        // "Agrees to 5 decimals", without the flakiness of rounding both near a boundary: the difference is far below 1e-5.
        Assert.That(Math.Abs(foldedDev - dev), Is.LessThanOrEqualTo(1e-6));
    }
}
