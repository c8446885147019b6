namespace BatchNormMlp.Samples.Reporting;

/// <summary>A named value per category (e.g. the variance after each residual block).</summary>
internal sealed class BarSeries
{
    public BarSeries(string name, IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(name);
        (Name, Values) = (name, values.ToArray());
    }

    public string Name { get; }
    public double[] Values { get; }
}

/// <summary>Grouped bars: one slot per category, one bar per series side by side.</summary>
internal sealed class BarChart : Chart
{
    public BarChart(IReadOnlyList<string> categories) => Categories = categories.ToArray();

    /// <summary>Bars labelled 1..<paramref name="count"/> (blocks or layers counted from one).</summary>
    public static BarChart ForIndices(int count) =>
        new(Enumerable.Range(1, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());

    public string[] Categories { get; }

    public List<BarSeries> Series { get; } = [];

    /// <summary>Log10 y axis (bars then rise from the bottom of the axis); values at or below zero are not drawn.</summary>
    public bool LogY { get; set; }

    /// <summary>Print each value above its bar when the bars are wide enough to hold it.</summary>
    public bool ShowValues { get; set; }

    /// <summary>Format for the printed values (invariant culture).</summary>
    public string ValueFormat { get; set; } = "0.##";

    private const double BarOpacity = 0.85;

    protected override bool CategoricalX => true;

    public BarChart Add(BarSeries series)
    {
        if (series.Values.Length != Categories.Length)
            throw new ArgumentException($"Bar series '{series.Name}' has {series.Values.Length} values for {Categories.Length} categories.", nameof(series));
        Series.Add(series);
        return this;
    }

    private bool Shows(double v) => double.IsFinite(v) && (!LogY || v > 0);

    protected override bool HasData => Series.Any(s => s.Values.Any(Shows));

    protected override (Axis X, Axis Y) CreateAxes()
    {
        var values = Series.SelectMany(s => s.Values).Where(Shows).ToList();
        var x = Axis.Categories(Categories);
        if (values.Count == 0) return (x, LogY ? Axis.Log(double.NaN, double.NaN) : Axis.Linear(double.NaN, double.NaN));
        return (x, LogY ? Axis.Log(values.Min(), values.Max()) : Axis.Linear(values.Min(), values.Max(), includeZero: true));
    }

    internal override IReadOnlyList<LegendEntry> LegendEntries()
    {
        if (Series.Count == 1 && string.IsNullOrEmpty(Series[0].Name)) return [];
        return Series.Select((s, i) => new LegendEntry(s.Name, ColorOf(i, Series.Count), null, true, BarOpacity)).ToList();
    }

    protected override void DrawSeries(SvgBuilder svg, Axis x, Axis y, ChartStyle style)
    {
        double slot = Math.Abs(x.Map(1) - x.Map(0));
        double groupWidth = slot * 0.8;
        double barWidth = groupWidth / Math.Max(1, Series.Count);
        double baseline = LogY ? y.PixelStart : y.Map(0);
        double valueSize = Math.Min(style.TickSize, barWidth * 0.9 / 3); // room for about four characters
        for (int i = 0; i < Series.Count; i++)
        {
            var s = Series[i];
            string color = ColorOf(i, Series.Count);
            svg.OpenGroup(s.Name, "class=\"series\"");
            for (int c = 0; c < s.Values.Length; c++)
            {
                double v = s.Values[c];
                if (!Shows(v)) continue;
                double left = x.Map(c) - groupWidth / 2 + i * barWidth;
                double top = y.Map(v);
                svg.Rect(left, Math.Min(top, baseline), barWidth - 1, Math.Abs(baseline - top), color, null, 1, BarOpacity);
                if (ShowValues && valueSize >= 8)
                {
                    string label = v.ToString(ValueFormat, System.Globalization.CultureInfo.InvariantCulture);
                    if (SvgBuilder.TextWidth(label, valueSize) <= barWidth + 4)
                    {
                        double ty = v >= 0 || LogY ? Math.Min(top, baseline) - 3 : Math.Max(top, baseline) + valueSize + 2;
                        svg.Text(left + (barWidth - 1) / 2, ty, label, valueSize, "middle", TextColor);
                    }
                }
            }
            svg.CloseGroup();
        }
    }
}
