namespace Microsoft.ML.BatchNormMlp.Tests.Api;

public class CharacterModelSmokeTests
{
    [Test]
    public void TrainEvaluateSampleFoldSaveLoad()
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var t = TrainedModels.Get();
        TestContext.Out.WriteLine($"trained in {sw.Elapsed.TotalSeconds:F1}s: {t.Model.Training}");
        var m = t.Model.Evaluate(t.Dev);
        TestContext.Out.WriteLine(m.ToString());
        Assert.That(m.Loss, Is.LessThan(Math.Log(27) - 0.3));
        var folded = t.Model.Fold();
        var fm = folded.Evaluate(t.Dev);
        TestContext.Out.WriteLine(fm.ToString());
        Assert.That(fm.Loss, Is.EqualTo(m.Loss).Within(1e-5));
        TestContext.Out.WriteLine(string.Join(", ", t.Model.Sample(10, seed: 3)));
        TestContext.Out.WriteLine(t.Model.Score("emma").ToString());
    }
}
