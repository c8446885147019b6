using System.Text.RegularExpressions;
using System.Xml.Linq;
using BatchNormMlp.Samples.Reporting;

namespace Microsoft.ML.BatchNormMlp.Tests.Reporting;

public class HtmlReportTests
{
    private static readonly XNamespace Html = "http://www.w3.org/1999/xhtml";

    private static XElement[] Elements(XDocument doc, string name) => doc.Descendants().Where(e => e.Name.LocalName == name).ToArray();

    [Test]
    public void SampleReport_IsOneWellFormedPageWithEveryFigureAndTable()
    {
        string html = SampleReport.Build().ToHtml();
        var doc = SvgAssert.Parse(html);

        Assert.That(Elements(doc, "title").First().Value, Is.EqualTo("Sample report: BatchNorm MLP diagnostics"));
        var svgs = doc.Descendants(SvgAssert.Svg + "svg").ToArray();
        Assert.That(svgs, Has.Length.EqualTo(5));
        Assert.That(SvgAssert.SeriesNames(svgs[0]), Is.EqualTo(new[] { "Train", "Validation" }));
        Assert.That(SvgAssert.SeriesNames(svgs[4]).Distinct(), Is.EqualTo(new[] { "No residual", "Residual" }));
        Assert.That(Elements(doc, "figcaption").Select(f => f.Value).ToArray(),
            Has.Length.EqualTo(5).And.Some.StartsWith("Figure 5. Each panel"));
        // Only the grid of panels keeps its size on narrow screens (it scrolls instead of shrinking its text).
        Assert.That(Elements(doc, "figure").Select(f => (string?)f.Attribute("class")),
            Is.EqualTo(new string?[] { null, null, null, null, "full-size" }));

        // Self-contained: nothing is fetched (no scripts, links, imports, external images or fonts).
        Assert.That(html, Does.Not.Contain("<script").And.Not.Contain("<link").And.Not.Contain("@import")
            .And.Not.Contain("url(").And.Not.Contain("href=").And.Not.Contain("src="));
    }

    [Test]
    public void Table_RightAlignsNumbersFormatsThemInvariantlyAndEscapesText()
    {
        var doc = SvgAssert.Parse(new HtmlReport("t").Table(SampleReport.Figures()).ToHtml());

        var headers = Elements(doc, "th");
        Assert.That(headers.Select(h => h.Value), Is.EqualTo(new[] { "Model", "Context", "Dev CE", "Test CE", "Accuracy", "Parameters", "Training time (s)" }));
        Assert.That(headers.Select(h => (string?)h.Attribute("class")),
            Is.EqualTo(new string?[] { null, "num", "num", "num", "num", "num", "num" }));
        var rows = Elements(doc, "tr").Skip(1).Select(r => r.Elements().Select(c => c.Value).ToArray()).ToArray();
        Assert.That(rows[0], Is.EqualTo(new[] { "n-gram, add-k <smoothed>", "3", "2.103", "2.110", "29.8 %", "", "0.4" }));
        Assert.That(rows[1][5..], Is.EqualTo(new[] { "12297", "95.3" }));
        Assert.That(rows[2][4], Is.EqualTo("NaN"));
        Assert.That(Elements(doc, "caption").Single().Value, Is.EqualTo("Table 1. Baselines and models on the names split (sample figures)"));
    }

    [Test]
    public void Text_IsEscaped()
    {
        string html = new HtmlReport("A & B <report>").Paragraph("x < y && \"z\"").ToHtml();
        var doc = SvgAssert.Parse(html);
        Assert.That(Elements(doc, "h1").Single().Value, Is.EqualTo("A & B <report>"));
        Assert.That(Elements(doc, "p").Single().Value, Is.EqualTo("x < y && \"z\""));
    }

    [Test]
    public void Figure_RejectsTextThatIsNotSvg()
    {
        var ex = Assert.Throws<ArgumentException>(() => new HtmlReport("t").Figure("<div>not a chart</div>"));
        Assert.That(ex!.Message, Does.StartWith("Figure 1: expected an SVG document starting with '<svg', got '<div>not a chart</div>'"));
    }

    [Test]
    public void Table_RejectsARowOfTheWrongWidthNamingTheColumns()
    {
        var table = new ReportTable("Model", "Dev CE");
        var ex = Assert.Throws<ArgumentException>(() => table.AddRow("only one"));
        Assert.That(ex!.Message, Does.StartWith("Row 1 has 1 cells; the table has 2 columns (Model, Dev CE)."));
        var bad = Assert.Throws<ArgumentException>(() => table.AddRow("x", new object()));
        Assert.That(bad!.Message, Does.StartWith("Row 1: a cell of type Object is neither text nor a number."));
    }

    [Test]
    public void Save_WritesAtomicallyAndReplacesAnOldReport()
    {
        string dir = Path.Combine(Path.GetTempPath(), "bnmlp-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            string path = Path.Combine(dir, "nested", "report.html");
            File.WriteAllText(Path.Combine(Directory.CreateDirectory(Path.Combine(dir, "nested")).FullName, "report.html"), "old");
            var report = SampleReport.Build();
            report.Save(path);
            Assert.That(File.ReadAllText(path), Is.EqualTo(report.ToHtml()));
            Assert.That(Directory.GetFiles(Path.Combine(dir, "nested")), Is.EqualTo(new[] { path }), "no temporary file is left behind");

            // Keep a copy where a person can open it (the page that was looked at in a browser).
            string copy = Path.Combine(TestContext.CurrentContext.WorkDirectory, "sample-report.html");
            report.Save(copy);
            Assert.That(File.Exists(copy), Is.True);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Save_IntoAFileInsteadOfADirectory_FailsAndLeavesNoTemporaryFile()
    {
        string dir = Path.Combine(Path.GetTempPath(), "bnmlp-report-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string blocker = Path.Combine(dir, "blocker");
            File.WriteAllText(blocker, "a file, not a directory");
            Assert.Throws(Is.InstanceOf<IOException>(), () => new HtmlReport("t").Save(Path.Combine(blocker, "report.html")));
            Assert.That(Directory.GetFiles(dir), Is.EqualTo(new[] { blocker }));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void SameReport_SameBytes()
    {
        Assert.That(SampleReport.Build().ToHtml(), Is.EqualTo(SampleReport.Build().ToHtml()));
        Assert.That(Regex.IsMatch(SampleReport.Build().ToHtml(), @"\d,\d{2}\b(?![^<]*>)"), Is.False);
    }
}
