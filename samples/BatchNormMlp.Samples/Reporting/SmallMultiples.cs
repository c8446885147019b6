namespace BatchNormMlp.Samples.Reporting;

/// <summary>
/// A grid of small charts read side by side (e.g. 50 layers' activation histograms, without and with residual
/// streams). Panels share one legend at the top and one pair of axis labels; each panel keeps its own title.
/// Series with the same position in every panel get the same colour, so the shared legend holds.
/// </summary>
internal sealed class SmallMultiples
{
    public string? Title { get; set; }
    public string? XLabel { get; set; }
    public string? YLabel { get; set; }
    public int Columns { get; set; } = 5;
    public double PanelWidth { get; set; } = 236;
    public double PanelHeight { get; set; } = 200;
    public List<Chart> Panels { get; } = [];

    public SmallMultiples Add(Chart panel) { Panels.Add(panel); return this; }

    public string ToSvg()
    {
        if (Columns < 1) throw new InvalidOperationException($"Columns must be at least 1 (was {Columns}).");
        var style = ChartStyle.Panel;
        var standalone = ChartStyle.Standalone;
        int columns = Math.Max(1, Math.Min(Columns, Panels.Count));
        int rows = (Panels.Count + columns - 1) / columns;
        double leftMargin = string.IsNullOrEmpty(YLabel) ? 4 : standalone.LabelSize * 2;
        double gridWidth = columns * PanelWidth;
        double width = leftMargin + gridWidth + 8;

        // Measure the legend with a scratch builder first: its height sets where the grid starts.
        var entries = SharedLegend();
        double titleHeight = string.IsNullOrEmpty(Title) ? 8 : standalone.TitleSize * 2;
        double legendHeight = LegendLayout.DrawHorizontal(new SvgBuilder(1, 1, null), entries, standalone, 0, 0, gridWidth);
        double gridTop = titleHeight + legendHeight + (legendHeight > 0 ? 6 : 0);
        double bottomMargin = string.IsNullOrEmpty(XLabel) ? 6 : standalone.LabelSize * 2.2;
        double height = gridTop + rows * PanelHeight + bottomMargin;

        var svg = new SvgBuilder(width, height, Title);
        double center = leftMargin + gridWidth / 2;
        if (!string.IsNullOrEmpty(Title))
            svg.Text(center, standalone.TitleSize * 1.3, Title, standalone.TitleSize, "middle", "#222222", "600");
        LegendLayout.DrawHorizontal(svg, entries, standalone, center, titleHeight, gridWidth);

        for (int p = 0; p < Panels.Count; p++)
        {
            double x = leftMargin + (p % columns) * PanelWidth;
            double y = gridTop + (p / columns) * PanelHeight;
            svg.OpenGroup(attributes: "class=\"panel\"");
            Panels[p].Render(svg, x, y, PanelWidth, PanelHeight, style, drawLegend: false);
            svg.CloseGroup();
        }

        if (!string.IsNullOrEmpty(XLabel))
            svg.Text(center, height - standalone.LabelSize * 0.7, XLabel, standalone.LabelSize, "middle", "#222222");
        if (!string.IsNullOrEmpty(YLabel))
        {
            double x = standalone.LabelSize * 1.1;
            svg.Text(x, gridTop + rows * PanelHeight / 2, YLabel, standalone.LabelSize, "middle", "#222222", rotate: -90);
        }
        return svg.ToString();
    }

    /// <summary>Each series name once, with the colour of its first appearance.</summary>
    private List<LegendEntry> SharedLegend()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var entries = new List<LegendEntry>();
        foreach (var panel in Panels)
            foreach (var e in panel.LegendEntries())
                if (seen.Add(e.Name)) entries.Add(e);
        return entries;
    }
}
