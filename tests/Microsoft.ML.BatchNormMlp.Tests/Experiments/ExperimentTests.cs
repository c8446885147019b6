using System.Xml.Linq;
using BatchNormMlp.Samples.Experiments;
using Microsoft.ML.BatchNormMlp.Tests.Reporting;

namespace Microsoft.ML.BatchNormMlp.Tests.Experiments;

/// <summary>
/// Every sample's experiment end to end at a tiny size (a few steps, narrow layers) on the real data: its table,
/// its findings, and a report whose every SVG parses and holds the expected series.
/// </summary>
public class ExperimentTests
{
    internal static string Root()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "BatchNormMlp.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No BatchNormMlp.sln above {TestContext.CurrentContext.TestDirectory}.");
    }

    /// <summary>The report parsed as XML, and its SVG figures.</summary>
    private static (XDocument Html, List<XElement> Svgs) Parse(ExperimentOutcome outcome)
    {
        var doc = SvgAssert.Parse(outcome.Report.ToHtml());
        var svgs = doc.Descendants(SvgAssert.Svg + "svg").ToList();
        Assert.That(svgs, Is.Not.Empty, "the report embeds its charts");
        foreach (var svg in svgs) SvgAssert.Parse(svg.ToString());   // each SVG stands alone too
        return (doc, svgs);
    }

    private static XElement Chart(List<XElement> svgs, string title) =>
        svgs.Single(s => (string?)s.Element(SvgAssert.Svg + "title") == title);

    private static List<string> Cells(XDocument doc) => doc.Descendants().Where(e => e.Name.LocalName is "td").Select(e => e.Value).ToList();

    private static void CheckText(ExperimentOutcome outcome, int rows)
    {
        Assert.That(outcome.Table.Rows, Has.Count.EqualTo(rows));
        string text = outcome.ToText();
        foreach (string header in outcome.Table.Headers) Assert.That(text, Does.Contain(header));
        Assert.That(outcome.Findings, Is.Not.Empty);
        Assert.That(text, Does.Not.Contain("NaN"));
    }

    [Test]
    public void BnVsPlain_ComparesBothModels()
    {
        var o = BnVsPlainExperiment.Run(new BnVsPlainOptions(Steps: 30, HiddenWidths: [8], BaseDirectory: Root()));
        CheckText(o, 2);
        Assert.That(o.Table.Rows.Select(r => r[0]), Is.EqualTo(new[] { "plain1, no BatchNorm", "bn1, BatchNorm" }));
        Assert.That(o.Table.Rows.All(r => (double)r[3]! is > 1.5 and < 3.4), Is.True, "dev cross-entropy after 30 steps lies between a good model and a uniform guess");
        Assert.That(o.Findings[0], Does.Contain("no PyTorch figure"), "narrowed widths are not compared with torch_ref");
        var (_, svgs) = Parse(o);
        Assert.That(SvgAssert.SeriesNames(Chart(svgs, "Loss")), Is.EqualTo(new[]
            { "plain1, no BatchNorm: train", "plain1, no BatchNorm: dev", "bn1, BatchNorm: train", "bn1, BatchNorm: dev" }));
        Assert.That(SvgAssert.SeriesNames(Chart(svgs, "Hidden tanh outputs at step 1")), Is.EqualTo(new[] { "plain1, no BatchNorm", "bn1, BatchNorm" }));
        Assert.That(SvgAssert.SeriesNames(Chart(svgs, "Update:data ratio, BatchNorm model (bn1)")),
            Is.EqualTo(new[] { "embedding.weight", "hidden.0.linear.weight", "output.weight", "1e-3 (rule of thumb)" }));
    }

    [Test]
    public void Mlp3_ShowsThreeStartsWithPerLayerHistograms()
    {
        var o = Mlp3Experiment.Run(new Mlp3Options(Steps: 12, HiddenWidths: [8, 12, 16, 12, 8], DiagnosticsEvery: 5, BaseDirectory: Root()));
        CheckText(o, 3);
        var firstLoss = o.Table.Rows.Select(r => (double)(float)r[2]!).ToArray();
        Assert.That(firstLoss[0], Is.GreaterThan(firstLoss[1]), "naive N(0,1) init starts far above Kaiming");
        var saturation = o.Table.Rows.Select(r => (double)r[4]!).ToArray();
        Assert.That(saturation[0], Is.GreaterThan(saturation[1]), "naive init saturates more tanh units than Kaiming");
        var (_, svgs) = Parse(o);
        var layers = Enumerable.Range(1, 5).Select(l => $"Layer {l}").ToArray();
        foreach (string model in new[] { "Naive N(0,1) init", "Kaiming init", "Kaiming + BatchNorm" })
        {
            Assert.That(SvgAssert.SeriesNames(Chart(svgs, $"{model}: weight gradients")), Is.EqualTo(layers));
            Assert.That(SvgAssert.SeriesNames(Chart(svgs, $"{model}: tanh outputs")), Is.EqualTo(layers));
            Assert.That(SvgAssert.SeriesNames(Chart(svgs, $"{model}: update:data ratio")), Has.Count.EqualTo(8), "embedding, five hidden weights, output weight, and the 1e-3 guide");
        }
    }

    [Test]
    public void Deep50_DrawsOnePanelPerLayer()
    {
        var o = Deep50Experiment.Run(new Deep50Options(Steps: 6, Layers: 7, Width: 8, BaseDirectory: Root()));
        CheckText(o, 2);
        Assert.That(o.Table.Headers, Does.Contain("Output std, layer 7"));
        var std = o.Table.Rows.Select(r => (double)r[5]!).ToArray();
        Assert.That(std[1], Is.GreaterThan(std[0]), "the residual stream's last layer spreads wider than a lone tanh");
        var (_, svgs) = Parse(o);
        var grid = Chart(svgs, "Layer outputs after training: no residual vs residual");
        var panels = grid.Descendants(SvgAssert.Svg + "g").Where(g => (string?)g.Attribute("class") == "panel").ToList();
        Assert.That(panels, Has.Count.EqualTo(7));
        Assert.That(panels.All(p => SvgAssert.SeriesNames(p).SequenceEqual(["No residual", "Residual"])), Is.True);
        Assert.That(SvgAssert.LegendTexts(grid), Is.EqualTo(new[] { "No residual", "Residual" }));
    }

    [Test]
    public void Calibration_ComparesRunningAndCalibratedStatistics()
    {
        var o = CalibrationExperiment.Run(new CalibrationOptions(Steps: 40, HiddenWidths: [16], BaseDirectory: Root()));
        Assert.That(o.Table.Rows, Has.Count.EqualTo(2));
        Assert.That(o.Table.Rows[1][5], Is.EqualTo(2.0677990913391113), "the seed's calibrated train loss is quoted");
        Assert.That(o.Findings[0], Does.Contain("--full"));
        var (html, svgs) = Parse(o);
        Assert.That(SvgAssert.SeriesNames(Chart(svgs, "BatchNorm mean per hidden unit")),
            Is.EqualTo(new[] { "Running (training)", "Calibrated (training set)" }));
        Assert.That(Cells(html), Does.Contain("Calibrated over the training set"));
    }

    [Test]
    public void Folding_LeavesTheLossUnchanged()
    {
        var o = FoldingExperiment.Run(new FoldingOptions(Steps: 20, HiddenWidths: [12, 12], BaseDirectory: Root()));
        CheckText(o, 2);
        foreach (var row in o.Table.Rows)
        {
            Assert.That(Math.Abs((double)row[3]!), Is.LessThan(1e-5), $"{row[0]}: folded minus unfolded loss");
            Assert.That((double)row[4]!, Is.LessThan(1e-3), $"{row[0]}: largest logit difference");
        }
        var (_, svgs) = Parse(o);
        Assert.That(SvgAssert.SeriesNames(Chart(svgs, "Loss")), Is.EqualTo(new[] { "seed002: train", "seed002: dev" }));
    }

    [Test]
    public void Mnist1d_ShowsVarianceDoublingWithoutBatchNorm()
    {
        var o = Mnist1dExperiment.Run(new Mnist1dOptions(Steps: 8, Width: 100, BaseDirectory: Root()));
        CheckText(o, 7);
        Assert.That(o.Extra!.Rows, Has.Count.EqualTo(2));
        var plain = o.Table.Rows.Select(r => (double)r[1]!).ToArray();
        var bn = o.Table.Rows.Select(r => (double)r[3]!).ToArray();
        Assert.That(plain[6] / plain[1], Is.GreaterThan(8), "He init without BatchNorm: the variance roughly doubles per block (the seed: x14)");
        Assert.That(bn[6] / bn[1], Is.LessThan(4), "BatchNorm in the branch: linear growth");
        var (_, svgs) = Parse(o);
        Assert.That(SvgAssert.SeriesNames(Chart(svgs, "Variance after each block at initialization")),
            Is.EqualTo(new[] { "No BatchNorm", "Seed, no BatchNorm", "BatchNorm in the branch", "Seed, stream normalized" }));
    }

    [Test]
    public void Baselines_TableHoldsEveryModelAndTheExternalRows()
    {
        var o = BaselinesExperiment.Run(new BaselinesOptions(Steps: 20, Contexts: [3], HiddenWidth: 8, ResidualLayers: 2, BaseDirectory: Root()));
        Assert.That(o.Table.Rows, Has.Count.EqualTo(7), "n-gram, softmax regression, two MLPs, deep residual, two external rows at context 3");
        var models = o.Table.Rows.Select(r => (string)r[0]!).ToList();
        Assert.That(models.Count(m => m.Contains("external")), Is.EqualTo(2));
        Assert.That(models, Does.Contain("Softmax regression (no hidden layer)"));
        var ngram = o.Table.Rows.Single(r => ((string)r[0]!).StartsWith("Count n-gram"));
        Assert.That((double)ngram[2]!, Is.EqualTo(2.100).Within(0.01), "the count model's dev cross-entropy at context 3 (issue: about 2.10)");
        var softmax = o.Table.Rows.Single(r => (string)r[0]! == "Softmax regression (no hidden layer)");
        Assert.That(softmax[5], Is.EqualTo(27 * 27 + 81 * 27 + 27), "embedding 27x27, output 81x27 and its bias");
        var (_, svgs) = Parse(o);
        Assert.That(SvgAssert.SeriesNames(Chart(svgs, "Dev cross-entropy by context length")), Is.EqualTo(new[]
            { "Count n-gram", "Softmax regression", "MLP, no BatchNorm", "MLP, BatchNorm", "Deep residual MLP", "Boosted trees (external)" }));
        Assert.That(SvgAssert.SeriesNames(Chart(svgs, "BatchNorm MLP loss by context")), Is.EqualTo(new[] { "Context 3: train", "Context 3: dev" }));
    }

    [Test]
    public void Catalog_NamesEverySample()
    {
        Assert.That(ExperimentCatalog.All.Select(e => e.Name),
            Is.EqualTo(new[] { "bn-vs-plain", "mlp3", "deep50", "calibration", "folding", "mnist1d", "baselines", "compare" }));
        Assert.That(ExperimentCatalog.Find("MNIST1D")!.Name, Is.EqualTo("mnist1d"));
        Assert.That(ExperimentCatalog.Find("nope"), Is.Null);
    }

    [Test]
    public void SaveReport_WritesTheNamedReportFile()
    {
        var o = FoldingExperiment.Run(new FoldingOptions(Steps: 4, HiddenWidths: [6, 6], BaseDirectory: Root()));
        string dir = Path.Combine(Path.GetTempPath(), $"bnmlp-samples-{Guid.NewGuid():N}");
        try
        {
            string path = o.SaveReport(dir);
            Assert.That(path, Is.EqualTo(Path.Combine(dir, "folding", "report.html")));
            Assert.That(File.ReadAllText(path), Does.StartWith("<!DOCTYPE html>").And.Contain("Folding BatchNorm"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void AnOptionASampleDoesNotRead_IsAnError_NotIgnored()
    {
        var mlp3 = ExperimentCatalog.Find("mlp3")!;
        Assert.That(mlp3.Problem(["mlp3", "--data", "names.txt", "--threads", "2"]), Is.Null);
        Assert.That(mlp3.Problem(["mlp3", "--full"]), Is.EqualTo("mlp3 does not know the option '--full'. It reads --data, --threads."), "mlp3 has one length, the seed's");
        Assert.That(ExperimentCatalog.Find("calibration")!.Problem(["calibration", "--full"]), Is.Null);
        Assert.That(ExperimentCatalog.Find("calibration")!.Problem(["calibration", "--ful"]), Does.Contain("'--ful'").And.Contain("--full"));
        Assert.That(ExperimentCatalog.Find("compare")!.Problem(["compare", "--quick", "--results", "r.jsonl"]), Is.Null);
        Assert.That(ExperimentCatalog.All.Select(e => e.Problem([e.Name, "--stepz", "5"])), Has.All.Contains("'--stepz'"));
    }
}
