using System.Globalization;
using System.Xml.Linq;
using BatchNormMlp.Samples.Reporting;
using Microsoft.ML.BatchNormMlp.Training.Diagnostics;

namespace Microsoft.ML.BatchNormMlp.Tests.Reporting;

public class ChartTests
{
    private static XDocument Svg(string text)
    {
        var doc = SvgAssert.Parse(text);
        Assert.That(doc.Root!.Name, Is.EqualTo(SvgAssert.Svg + "svg"));
        return doc;
    }

    private static XElement SeriesPath(XDocument doc, string name) =>
        SvgAssert.SeriesGroups(doc).Single(g => g.Attribute("data-series")!.Value == name).Element(SvgAssert.Svg + "path")!;

    [Test]
    public void LossCurves_HoldOneNamedLinePerSeriesWithTitleLabelsAndLegend()
    {
        var doc = Svg(SampleReport.LossCurves().ToSvg());
        Assert.That(doc.Root!.Element(SvgAssert.Svg + "title")!.Value, Is.EqualTo("Loss"));
        Assert.That(SvgAssert.SeriesNames(doc), Is.EqualTo(new[] { "Train", "Validation" }));
        Assert.That(SvgAssert.SeriesGroups(doc).Select(g => g.Element(SvgAssert.Svg + "title")!.Value), Is.EqualTo(new[] { "Train", "Validation" }));
        Assert.That(SvgAssert.LegendTexts(doc), Is.EqualTo(new[] { "Train", "Validation" }));
        Assert.That(SvgAssert.Texts(doc), Does.Contain("Step").And.Contain("Cross-entropy"));
        Assert.That(SvgAssert.AxisTexts(doc), Does.Contain("1000").And.Contain("2.0").And.Contain("3.0"));
        Assert.That(SvgAssert.PathPoints(SeriesPath(doc, "Validation")), Is.EqualTo(31));
        // The two lines differ in colour.
        Assert.That(SeriesPath(doc, "Train").Attribute("stroke")!.Value, Is.Not.EqualTo(SeriesPath(doc, "Validation").Attribute("stroke")!.Value));
    }

    [Test]
    public void NonFinitePoints_AreSkippedAndBreakTheLine()
    {
        var chart = new LineChart()
            .Add(new LineSeries("gappy", [0, 1, 2, 3, 4, 5], [1, 2, double.NaN, 3, double.PositiveInfinity, 4]))
            .Add(new LineSeries("all bad", [0, 1], [double.NaN, double.NegativeInfinity]));
        var doc = Svg(chart.ToSvg());

        var path = SeriesPath(doc, "gappy");
        Assert.That(SvgAssert.PathPoints(path), Is.EqualTo(4));
        Assert.That(SvgAssert.SubPaths(path), Is.EqualTo(3));
        Assert.That(path.Attribute("d")!.Value, Does.Contain("l0 0"), "a lone point is drawn as a dot");
        Assert.That(path.Attribute("d")!.Value, Does.Not.Contain("NaN").And.Not.Contain("Infinity"));
        var empty = SvgAssert.SeriesGroups(doc).Single(g => g.Attribute("data-series")!.Value == "all bad");
        Assert.That(empty.Elements(SvgAssert.Svg + "path"), Is.Empty);
        Assert.That(SvgAssert.LegendTexts(doc), Is.EqualTo(new[] { "gappy", "all bad" }));
    }

    [Test]
    public void LogScale_LeavesOutValuesAtOrBelowZero()
    {
        var chart = new LineChart { LogY = true }.Add(new LineSeries("loss", [0, 1, 2, 3], [3.0, 0, -1, 2.5]));
        var doc = Svg(chart.ToSvg());
        Assert.That(SvgAssert.PathPoints(SeriesPath(doc, "loss")), Is.EqualTo(2));
        Assert.That(doc.ToString(), Does.Not.Contain("NaN"));
    }

    [Test]
    public void EmptyCharts_SayNoDataInsteadOfFailing()
    {
        foreach (string svg in new[]
                 {
                     new LineChart { Title = "nothing" }.ToSvg(),
                     new LineChart().Add(new LineSeries("empty", [], [])).ToSvg(),
                     new LineChart { LogY = true }.Add(new LineSeries("neg", [0.0], [-1.0])).ToSvg(),
                     new HistogramChart().ToSvg(),
                     new BarChart([]).ToSvg(),
                     new SmallMultiples().ToSvg(),
                 })
        {
            var doc = Svg(svg);
            Assert.That(doc.ToString(), Does.Not.Contain("NaN").And.Not.Contain("Infinity"));
        }
        Assert.That(SvgAssert.Texts(Svg(new LineChart().ToSvg())), Does.Contain("no data"));
    }

    [Test]
    public void Text_IsEscapedForXml()
    {
        const string name = "a<b & \"c\" 'd'\u0001";
        var chart = new LineChart { Title = "T & <t>", XLabel = "x > 0" }.Add(new LineSeries(name, [0, 1], [0, 1]));
        var doc = Svg(chart.ToSvg());
        Assert.That(SvgAssert.SeriesNames(doc), Is.EqualTo(new[] { "a<b & \"c\" 'd'" }));
        Assert.That(SvgAssert.Texts(doc), Does.Contain("T & <t>").And.Contain("x > 0"));
    }

    [Test]
    public void Output_IsDeterministicAndCultureInvariant()
    {
        string first = SampleReport.LossCurves().ToSvg();
        var saved = CultureInfo.CurrentCulture;
        try
        {
            // A culture whose decimal separator is a comma must not leak into coordinates.
            var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            comma.NumberFormat.NumberGroupSeparator = ".";
            CultureInfo.CurrentCulture = comma;
            Assert.That(SampleReport.LossCurves().ToSvg(), Is.EqualTo(first));
            Assert.That(SampleReport.DeepHistograms(4).ToSvg(), Is.EqualTo(SampleReport.DeepHistograms(4).ToSvg()));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
        var numbers = SvgAssert.Parse(first).Descendants().SelectMany(e => e.Attributes())
            .Where(a => a.Name.LocalName is "x" or "y" or "x1" or "y1" or "x2" or "y2" or "width" or "height" or "d");
        Assert.That(numbers.Select(a => a.Value), Has.None.Contains(","));
    }

    [Test]
    public void LongSeries_AreReducedToTheirEnvelopePerPixel()
    {
        var y = Enumerable.Range(0, 200_000).Select(i => i % 2 == 0 ? 1.0 : 3.0).ToArray();
        y[123_457] = 10; // a single spike must survive the reduction
        var chart = new LineChart { Width = 600 }.Add(LineSeries.FromValues("train", y));
        var doc = Svg(chart.ToSvg());
        var path = SeriesPath(doc, "train");
        Assert.That(SvgAssert.PathPoints(path), Is.LessThanOrEqualTo(2 * 600));
        Assert.That(SvgAssert.AxisTexts(doc), Does.Contain("10"), "the y axis still reaches the spike");
        // The topmost drawn point is the spike: the smallest y pixel equals where 10 maps.
        var ys = path.Attribute("d")!.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Where((_, i) => i % 2 == 1).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var lowY = ys.Min();
        Assert.That(ys.Count(v => v == lowY), Is.EqualTo(1));
    }

    [Test]
    public void LineSeries_RejectsMismatchedLengthsNamingTheSeries()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LineSeries("val", [1, 2, 3], [1, 2]));
        Assert.That(ex!.Message, Does.StartWith("Series 'val' has 3 x values but 2 y values."));
    }

    [Test]
    public void UpdateRatios_OneLinePerLayerInOrderedColoursPlusAFixedReferenceLine()
    {
        var doc = Svg(SampleReport.UpdateRatios().ToSvg());
        Assert.That(SvgAssert.SeriesNames(doc), Is.EqualTo(new[] { "Layer 1", "Layer 2", "Layer 3", "Layer 4", "Layer 5", "Layer 6", "Target 1e-3" }));
        var strokes = SvgAssert.SeriesGroups(doc).Select(g => g.Element(SvgAssert.Svg + "path")!.Attribute("stroke")!.Value).ToArray();
        Assert.That(strokes.Distinct().Count(), Is.EqualTo(7));
        Assert.That(strokes[^1], Is.EqualTo("#000000"));
        Assert.That(SeriesPath(doc, "Target 1e-3").Attribute("stroke-dasharray")!.Value, Is.EqualTo("6 4"));
    }

    [Test]
    public void Histograms_OneTranslucentAreaOrLinePerLayer()
    {
        var lines = Svg(SampleReport.LayerHistograms().ToSvg());
        Assert.That(SvgAssert.SeriesNames(lines), Is.EqualTo(Enumerable.Range(1, 5).Select(l => $"Layer {l} (tanh)")));
        Assert.That(SvgAssert.Texts(lines), Does.Contain("Density").And.Contain("Activation value"));
        Assert.That(SvgAssert.PathPoints(SvgAssert.SeriesGroups(lines)[0].Element(SvgAssert.Svg + "path")!), Is.EqualTo(30));

        var filled = new HistogramChart()
            .Add(HistogramSeries.Compute("No residual", [0f, 0.2f, 0.4f], 4, 0, 1))
            .Add(HistogramSeries.Compute("Residual", [0.5f, 0.9f], 4, 0, 1));
        var doc = Svg(filled.ToSvg());
        foreach (var g in SvgAssert.SeriesGroups(doc))
        {
            var path = g.Element(SvgAssert.Svg + "path")!;
            Assert.That(double.Parse(path.Attribute("fill-opacity")!.Value, CultureInfo.InvariantCulture), Is.InRange(0.2, 0.7));
            Assert.That(path.Attribute("d")!.Value, Does.EndWith("Z"));
        }
        Assert.That(SvgAssert.LegendTexts(doc), Is.EqualTo(new[] { "No residual", "Residual" }));
    }

    [Test]
    public void VariancePerBlock_OneBarPerBlockPerSeriesWithValuesAndCategoryLabels()
    {
        var doc = Svg(SampleReport.VariancePerBlock().ToSvg());
        var groups = SvgAssert.SeriesGroups(doc);
        Assert.That(SvgAssert.SeriesNames(doc), Is.EqualTo(new[] { "Without BatchNorm", "BatchNorm in the branch" }));
        Assert.That(groups.Select(g => g.Elements(SvgAssert.Svg + "rect").Count()), Is.EqualTo(new[] { 6, 6 }));
        Assert.That(groups[0].Elements(SvgAssert.Svg + "text").Select(t => t.Value), Is.EqualTo(new[] { "1.9", "3.4", "5.6", "9.1", "15.2", "27.5" }));
        Assert.That(SvgAssert.AxisTexts(doc), Is.SupersetOf(new[] { "Block 1", "Block 6", "1", "2", "5", "10", "20", "50" }));
        // Taller bars for larger values: heights grow with the variance.
        var heights = groups[0].Elements(SvgAssert.Svg + "rect").Select(r => double.Parse(r.Attribute("height")!.Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.That(heights, Is.Ordered.Ascending);
    }

    [Test]
    public void BarChart_RejectsASeriesOfTheWrongLength()
    {
        var ex = Assert.Throws<ArgumentException>(() => BarChart.ForIndices(3).Add(new BarSeries("var", [1, 2])));
        Assert.That(ex!.Message, Does.StartWith("Bar series 'var' has 2 values for 3 categories."));
    }

    [Test]
    public void SmallMultiples_OnePanelPerLayerWithBothSeriesAndOneSharedLegend()
    {
        var doc = Svg(SampleReport.DeepHistograms().ToSvg());
        var panels = doc.Descendants(SvgAssert.Svg + "g").Where(g => (string?)g.Attribute("class") == "panel").ToArray();
        Assert.That(panels, Has.Length.EqualTo(50));
        foreach (var panel in panels)
            Assert.That(SvgAssert.SeriesNames(panel), Is.EqualTo(new[] { "No residual", "Residual" }));
        Assert.That(SvgAssert.LegendTexts(doc), Is.EqualTo(new[] { "No residual", "Residual" }));
        var texts = SvgAssert.Texts(doc);
        Assert.That(texts, Does.Contain("Layer 1").And.Contain("Layer 50").And.Contain("Activation value").And.Contain("Frequency"));
        // Five columns, ten rows: the document is as wide as five panels and as tall as ten.
        double width = double.Parse(doc.Root!.Attribute("width")!.Value, CultureInfo.InvariantCulture);
        double height = double.Parse(doc.Root!.Attribute("height")!.Value, CultureInfo.InvariantCulture);
        Assert.That(width, Is.InRange(5 * 236, 5 * 236 + 60));
        Assert.That(height, Is.InRange(10 * 200, 10 * 200 + 120));
    }

    [Test]
    public void XTickLabels_AreThinnedSoTheyDoNotOverlap()
    {
        var chart = BarChart.ForIndices(60);
        chart.Width = 400;
        chart.Add(new BarSeries("v", Enumerable.Range(0, 60).Select(i => (double)i).ToArray()));
        var doc = Svg(chart.ToSvg());
        var labels = doc.Descendants(SvgAssert.Svg + "g").Where(g => (string?)g.Attribute("class") == "axes")
            .SelectMany(g => g.Elements(SvgAssert.Svg + "text"))
            .Where(t => t.Attribute("text-anchor")?.Value == "middle")
            .Select(t => double.Parse(t.Attribute("x")!.Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.That(labels, Has.Length.LessThan(60).And.Length.GreaterThan(5));
        for (int i = 1; i < labels.Length; i++)
            Assert.That(labels[i] - labels[i - 1], Is.GreaterThan(SvgBuilder.TextWidth("60", ChartStyle.Standalone.TickSize)));
    }

    [Test]
    public void LongLegendNames_AreShortenedButTheSeriesKeepsItsFullName()
    {
        string name = "hidden.3.linear.weight gradient with a very long description that would squeeze the plot";
        var chart = new LineChart { Width = 600 }.Add(new LineSeries(name, [0, 1], [0, 1])).Add(new LineSeries("short", [0, 1], [1, 0]));
        var doc = Svg(chart.ToSvg());
        var legend = SvgAssert.LegendTexts(doc);
        Assert.That(legend[0], Does.StartWith("hidden.3.linear.weight").And.EndWith("…"));
        Assert.That(SvgBuilder.TextWidth(legend[0], ChartStyle.Standalone.LegendSize), Is.LessThanOrEqualTo(0.3 * 600));
        Assert.That(legend[1], Is.EqualTo("short"));
        Assert.That(SvgAssert.SeriesNames(doc)[0], Is.EqualTo(name));
    }
}
