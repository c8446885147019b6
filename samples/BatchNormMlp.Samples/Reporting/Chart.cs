namespace BatchNormMlp.Samples.Reporting;

/// <summary>How series get their colours: distinct hues, or an ordered ramp (one line per layer).</summary>
internal enum ColorScheme
{
    Categorical,
    Sequential,
}

/// <summary>Font sizes and line width: one set for a standalone chart, a smaller one for a panel in a grid.</summary>
internal sealed record ChartStyle(double TitleSize, double LabelSize, double TickSize, double LegendSize, double LineWidth)
{
    public static readonly ChartStyle Standalone = new(17, 14, 12.5, 13, 2);
    public static readonly ChartStyle Panel = new(13, 12, 11, 12, 1.5);
}

/// <summary>One legend row: a swatch (a line, or a filled box for areas and bars) and a name.</summary>
internal readonly record struct LegendEntry(string Name, string Color, string? Dash, bool Filled, double FillOpacity = 0.45);

/// <summary>
/// The frame every chart shares: title, axes with ticks and grid lines, axis labels, a legend to the right of
/// the plot area. Subclasses say what the axes cover and draw their series inside the plot area.
/// </summary>
internal abstract class Chart
{
    protected const string TextColor = "#222222";
    protected const string AxisColor = "#555555";
    protected const string GridColor = "#e4e4e4";

    public string? Title { get; set; }
    public string? XLabel { get; set; }
    public string? YLabel { get; set; }
    public double Width { get; set; } = 760;
    public double Height { get; set; } = 420;
    public ColorScheme Colors { get; set; } = ColorScheme.Categorical;

    /// <summary>Whether a standalone chart draws its legend (a grid of panels draws one shared legend instead).</summary>
    public bool ShowLegend { get; set; } = true;

    /// <summary>The chart as a standalone SVG document.</summary>
    public string ToSvg()
    {
        var svg = new SvgBuilder(Width, Height, Title);
        Render(svg, 0, 0, Width, Height, ChartStyle.Standalone, ShowLegend);
        return svg.ToString();
    }

    protected abstract (Axis X, Axis Y) CreateAxes();

    /// <summary>Draws the series; the axes already map to the plot area.</summary>
    protected abstract void DrawSeries(SvgBuilder svg, Axis x, Axis y, ChartStyle style);

    internal abstract IReadOnlyList<LegendEntry> LegendEntries();

    /// <summary>Whether any series holds a point that can be drawn.</summary>
    protected abstract bool HasData { get; }

    /// <summary>Whether the x axis names categories (no vertical grid lines, labels thinned to fit).</summary>
    protected virtual bool CategoricalX => false;

    protected string ColorOf(int index, int count) =>
        Colors == ColorScheme.Sequential ? Palette.Sequential(index, count) : Palette.Categorical(index);

    protected string? DashOf(int index) => Colors == ColorScheme.Sequential ? null : Palette.CategoricalDash(index);

    /// <summary>Draws the chart into the box (<paramref name="left"/>, <paramref name="top"/>, width, height).</summary>
    internal void Render(SvgBuilder svg, double left, double top, double width, double height, ChartStyle style, bool drawLegend)
    {
        var (xAxis, yAxis) = CreateAxes();
        var entries = drawLegend ? LegendEntries() : [];

        double plotTop = top + (string.IsNullOrEmpty(Title) ? 12 : style.TitleSize * 2 + 2);
        double plotBottom = top + height - (10 + style.TickSize * 1.6 + (string.IsNullOrEmpty(XLabel) ? 0 : style.LabelSize * 1.6));
        double yTickWidth = yAxis.Ticks.Count == 0 ? 0 : yAxis.Ticks.Max(t => SvgBuilder.TextWidth(t.Label, style.TickSize));
        double plotLeft = left + 8 + (string.IsNullOrEmpty(YLabel) ? 0 : style.LabelSize * 1.5) + yTickWidth + 8;

        var legend = LegendLayout.Create(entries, style, plotBottom - plotTop, maxTextWidth: 0.3 * width);
        double plotRight = left + width - 14 - (legend.Width > 0 ? legend.Width + 12 : 0);
        plotRight = Math.Max(plotRight, plotLeft + 20);

        xAxis.SetPixels(plotLeft, plotRight);
        yAxis.SetPixels(plotBottom, plotTop);

        if (!string.IsNullOrEmpty(Title))
            svg.Text((plotLeft + plotRight) / 2, top + style.TitleSize * 1.3, Title, style.TitleSize, "middle", TextColor, "600");

        DrawGridAndAxes(svg, xAxis, yAxis, style);
        if (HasData) DrawSeries(svg, xAxis, yAxis, style);
        else svg.Text((plotLeft + plotRight) / 2, (plotTop + plotBottom) / 2, "no data", style.LabelSize, "middle", "#888888");

        if (!string.IsNullOrEmpty(XLabel))
            svg.Text((plotLeft + plotRight) / 2, top + height - 10, XLabel, style.LabelSize, "middle", TextColor);
        if (!string.IsNullOrEmpty(YLabel))
        {
            double x = left + 8 + style.LabelSize * 0.9;
            svg.Text(x, (plotTop + plotBottom) / 2, YLabel, style.LabelSize, "middle", TextColor, rotate: -90);
        }
        legend.Draw(svg, plotRight + 12, plotTop);
    }

    private void DrawGridAndAxes(SvgBuilder svg, Axis x, Axis y, ChartStyle style)
    {
        svg.OpenGroup(attributes: "class=\"axes\"");
        foreach (var tick in y.Ticks)
        {
            double py = y.Map(tick.Value);
            svg.Line(x.PixelStart, py, x.PixelEnd, py, GridColor);
            svg.Text(x.PixelStart - 6, py + style.TickSize * 0.35, tick.Label, style.TickSize, "end", TextColor);
        }

        // Show every n-th x label so that neighbours never overlap.
        int every = 1;
        if (x.Ticks.Count > 1)
        {
            double spacing = Math.Abs(x.Map(x.Ticks[1].Value) - x.Map(x.Ticks[0].Value));
            double widest = x.Ticks.Max(t => SvgBuilder.TextWidth(t.Label, style.TickSize));
            every = Math.Max(1, (int)Math.Ceiling((widest + style.TickSize) / Math.Max(spacing, 1e-9)));
        }
        for (int i = 0; i < x.Ticks.Count; i++)
        {
            var tick = x.Ticks[i];
            double px = x.Map(tick.Value);
            if (!CategoricalX) svg.Line(px, y.PixelEnd, px, y.PixelStart, GridColor);
            svg.Line(px, y.PixelStart, px, y.PixelStart + 4, AxisColor);
            if (i % every == 0)
                svg.Text(px, y.PixelStart + 6 + style.TickSize, tick.Label, style.TickSize, "middle", TextColor);
        }
        svg.Line(x.PixelStart, y.PixelStart, x.PixelEnd, y.PixelStart, AxisColor);
        svg.Line(x.PixelStart, y.PixelStart, x.PixelStart, y.PixelEnd, AxisColor);
        svg.CloseGroup();
    }
}

/// <summary>Legend rows in as many columns as the plot height needs.</summary>
internal sealed class LegendLayout
{
    private readonly IReadOnlyList<LegendEntry> _entries;
    private readonly ChartStyle _style;
    private readonly int _rows;
    private readonly double _columnWidth;

    private LegendLayout(IReadOnlyList<LegendEntry> entries, ChartStyle style, int rows, double columnWidth, double width)
    {
        (_entries, _style, _rows, _columnWidth, Width) = (entries, style, rows, columnWidth, width);
    }

    public double Width { get; }

    private static double RowHeight(ChartStyle style) => style.LegendSize * 1.6;

    private static double SwatchWidth(ChartStyle style) => style.LegendSize * 2;

    /// <summary>Lays out the rows; names wider than <paramref name="maxTextWidth"/> are shortened with an ellipsis
    /// (the series keeps its full name in its own title and data-series attribute).</summary>
    public static LegendLayout Create(IReadOnlyList<LegendEntry> entries, ChartStyle style, double availableHeight, double maxTextWidth)
    {
        if (entries.Count == 0) return new LegendLayout(entries, style, 0, 0, 0);
        entries = entries.Select(e => e with { Name = Shorten(e.Name, style.LegendSize, maxTextWidth) }).ToList();
        int rows = Math.Max(1, Math.Min(entries.Count, (int)(availableHeight / RowHeight(style))));
        int columns = (entries.Count + rows - 1) / rows;
        rows = (entries.Count + columns - 1) / columns; // balance the columns
        double widest = entries.Max(e => SvgBuilder.TextWidth(e.Name, style.LegendSize));
        double columnWidth = SwatchWidth(style) + 6 + widest + 10;
        return new LegendLayout(entries, style, rows, columnWidth, columns * columnWidth);
    }

    internal static string Shorten(string text, double fontSize, double maxWidth)
    {
        if (SvgBuilder.TextWidth(text, fontSize) <= maxWidth) return text;
        int keep = text.Length;
        while (keep > 1 && SvgBuilder.TextWidth(text[..keep] + "…", fontSize) > maxWidth) keep--;
        return text[..keep].TrimEnd() + "…";
    }

    public void Draw(SvgBuilder svg, double left, double top)
    {
        if (_entries.Count == 0) return;
        svg.OpenGroup(attributes: "class=\"legend\"");
        for (int i = 0; i < _entries.Count; i++)
        {
            var e = _entries[i];
            double x = left + (i / _rows) * _columnWidth;
            double y = top + (i % _rows) * RowHeight(_style) + RowHeight(_style) / 2;
            DrawSwatch(svg, e, x, y, _style);
            svg.Text(x + SwatchWidth(_style) + 6, y + _style.LegendSize * 0.35, e.Name, _style.LegendSize, "start", "#222222");
        }
        svg.CloseGroup();
    }

    /// <summary>A legend swatch centred vertically on <paramref name="y"/>, starting at <paramref name="x"/>.</summary>
    public static void DrawSwatch(SvgBuilder svg, LegendEntry e, double x, double y, ChartStyle style)
    {
        double w = SwatchWidth(style);
        if (e.Filled)
        {
            double h = style.LegendSize * 0.8;
            svg.Rect(x, y - h / 2, w, h, e.Color, e.Color, 1, e.FillOpacity);
        }
        else
        {
            svg.Line(x, y, x + w, y, e.Color, style.LineWidth + 0.5, e.Dash);
        }
    }

    /// <summary>A one-row legend (wrapping onto more rows when wider than <paramref name="maxWidth"/>), for a grid of panels.</summary>
    public static double DrawHorizontal(SvgBuilder svg, IReadOnlyList<LegendEntry> entries, ChartStyle style, double centerX, double top, double maxWidth)
    {
        if (entries.Count == 0) return 0;
        var widths = entries.Select(e => SwatchWidth(style) + 6 + SvgBuilder.TextWidth(e.Name, style.LegendSize) + 18).ToList();
        var lines = new List<List<int>> { new() };
        double lineWidth = 0;
        for (int i = 0; i < entries.Count; i++)
        {
            if (lines[^1].Count > 0 && lineWidth + widths[i] > maxWidth) { lines.Add([]); lineWidth = 0; }
            lines[^1].Add(i);
            lineWidth += widths[i];
        }
        svg.OpenGroup(attributes: "class=\"legend\"");
        for (int l = 0; l < lines.Count; l++)
        {
            double total = lines[l].Sum(i => widths[i]);
            double x = centerX - total / 2;
            double y = top + l * RowHeight(style) + RowHeight(style) / 2;
            foreach (int i in lines[l])
            {
                DrawSwatch(svg, entries[i], x, y, style);
                svg.Text(x + SwatchWidth(style) + 6, y + style.LegendSize * 0.35, entries[i].Name, style.LegendSize, "start", "#222222");
                x += widths[i];
            }
        }
        svg.CloseGroup();
        return lines.Count * RowHeight(style);
    }
}
