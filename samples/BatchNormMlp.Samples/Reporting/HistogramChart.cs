namespace BatchNormMlp.Samples.Reporting;

/// <summary>How a histogram is drawn.</summary>
internal enum HistogramStyle
{
    /// <summary>Translucent filled steps, for two or three overlaid series (matplotlib's <c>hist(alpha=0.5)</c>).</summary>
    Filled,
    /// <summary>A line through the bin heights at the left edges, for many layers at once (the seeds' density plots).</summary>
    Line,
}

/// <summary>Overlaid histograms on shared axes: activations or gradients per layer.</summary>
internal sealed class HistogramChart : Chart
{
    public List<HistogramSeries> Series { get; } = [];

    public HistogramStyle Style { get; set; } = HistogramStyle.Filled;

    /// <summary>Fill opacity in <see cref="HistogramStyle.Filled"/>, low enough to see one series through another.</summary>
    public double FillOpacity { get; set; } = 0.45;

    public HistogramChart Add(HistogramSeries series) { Series.Add(series); return this; }

    protected override bool HasData => Series.Any(s => s.Heights.Any(double.IsFinite));

    protected override (Axis X, Axis Y) CreateAxes()
    {
        double xMin = double.PositiveInfinity, xMax = double.NegativeInfinity, yMax = double.NegativeInfinity;
        foreach (var s in Series)
        {
            if (!s.Heights.Any(double.IsFinite)) continue;
            xMin = Math.Min(xMin, s.Edges[0]);
            xMax = Math.Max(xMax, s.Edges[^1]);
            foreach (double h in s.Heights) if (double.IsFinite(h)) yMax = Math.Max(yMax, h);
        }
        bool any = xMin <= xMax;
        return (any ? Axis.Linear(xMin, xMax) : Axis.Linear(double.NaN, double.NaN),
                any ? Axis.Linear(0, Math.Max(yMax, 0), includeZero: true) : Axis.Linear(double.NaN, double.NaN));
    }

    internal override IReadOnlyList<LegendEntry> LegendEntries()
    {
        if (Series.Count == 1 && string.IsNullOrEmpty(Series[0].Name)) return [];
        return Series.Select((s, i) => new LegendEntry(s.Name, ColorOf(i, Series.Count),
            Style == HistogramStyle.Line ? DashOf(i) : null, Style == HistogramStyle.Filled, FillOpacity)).ToList();
    }

    protected override void DrawSeries(SvgBuilder svg, Axis x, Axis y, ChartStyle style)
    {
        double baseline = y.Map(0);
        for (int i = 0; i < Series.Count; i++)
        {
            var s = Series[i];
            string color = ColorOf(i, Series.Count);
            svg.OpenGroup(s.Name, "class=\"series\"");
            if (Style == HistogramStyle.Filled) DrawFilled(svg, s, x, y, baseline, color, style);
            else
            {
                var path = new PathData();
                for (int b = 0; b < s.Heights.Length; b++)
                {
                    if (double.IsFinite(s.Heights[b])) path.To(x.Map(s.Edges[b]), y.Map(s.Heights[b]));
                    else path.Break();
                }
                if (!path.IsEmpty) svg.Path(path.ToString(), color, style.LineWidth, null, dash: DashOf(i));
            }
            svg.CloseGroup();
        }
    }

    /// <summary>One closed step outline per run of finite bins: fill and outline in the series colour.</summary>
    private void DrawFilled(SvgBuilder svg, HistogramSeries s, Axis x, Axis y, double baseline, string color, ChartStyle style)
    {
        var path = new PathData();
        int b = 0;
        while (b < s.Heights.Length)
        {
            if (!double.IsFinite(s.Heights[b])) { b++; continue; }
            path.To(x.Map(s.Edges[b]), baseline);
            for (; b < s.Heights.Length && double.IsFinite(s.Heights[b]); b++)
            {
                double top = y.Map(s.Heights[b]);
                path.To(x.Map(s.Edges[b]), top);
                path.To(x.Map(s.Edges[b + 1]), top);
            }
            path.To(x.Map(s.Edges[b]), baseline);
            path.Close();
        }
        if (!path.IsEmpty) svg.Path(path.ToString(), color, style.LineWidth * 0.5, color, FillOpacity);
    }
}
