namespace BatchNormMlp.Samples.Reporting;

/// <summary>A named sequence of (x, y) points. Points with NaN or infinite coordinates are not drawn.</summary>
internal sealed class LineSeries
{
    public LineSeries(string name, IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (x.Count != y.Count)
            throw new ArgumentException($"Series '{name}' has {x.Count} x values but {y.Count} y values.", nameof(y));
        (Name, X, Y) = (name, x.ToArray(), y.ToArray());
    }

    public string Name { get; }
    public double[] X { get; }
    public double[] Y { get; }

    /// <summary>A fixed colour (e.g. "#000000" for a reference line); null takes the chart's palette.</summary>
    public string? Color { get; set; }

    /// <summary>A fixed SVG dash pattern (e.g. "6 4"); null takes the chart's default for the series.</summary>
    public string? Dash { get; set; }

    /// <summary>Values at x = 0, 1, 2, ... (or at <paramref name="xStart"/> + i * <paramref name="xStep"/>).</summary>
    public static LineSeries FromValues(string name, IReadOnlyList<double> y, double xStart = 0, double xStep = 1) =>
        new(name, Enumerable.Range(0, y.Count).Select(i => xStart + i * xStep).ToArray(), y);

    /// <summary>Single-precision values, as the engine records them.</summary>
    public static LineSeries FromValues(string name, IReadOnlyList<float> y, double xStart = 0, double xStep = 1) =>
        FromValues(name, y.Select(v => (double)v).ToArray(), xStart, xStep);
}

/// <summary>
/// Several named lines on shared axes: loss curves (train and validation, optionally log y), update:data ratios
/// per layer over time, a value per block. A gap in a line marks points that could not be drawn.
/// </summary>
internal sealed class LineChart : Chart
{
    /// <summary>Beyond this many points per pixel column a series is reduced to each column's minimum and maximum.</summary>
    private const int PointsPerPixel = 2;

    public List<LineSeries> Series { get; } = [];

    /// <summary>Log10 y axis; values at or below zero are then not drawn.</summary>
    public bool LogY { get; set; }

    /// <summary>Draw a dot at every point (for short series such as a value per block).</summary>
    public bool Markers { get; set; }

    public LineChart Add(LineSeries series) { Series.Add(series); return this; }

    private bool Shows(double x, double y) => double.IsFinite(x) && double.IsFinite(y) && (!LogY || y > 0);

    protected override bool HasData => Series.Any(s => Enumerable.Range(0, s.X.Length).Any(i => Shows(s.X[i], s.Y[i])));

    protected override (Axis X, Axis Y) CreateAxes()
    {
        double xMin = double.PositiveInfinity, xMax = double.NegativeInfinity, yMin = double.PositiveInfinity, yMax = double.NegativeInfinity;
        foreach (var s in Series)
        {
            for (int i = 0; i < s.X.Length; i++)
            {
                if (!Shows(s.X[i], s.Y[i])) continue;
                xMin = Math.Min(xMin, s.X[i]); xMax = Math.Max(xMax, s.X[i]);
                yMin = Math.Min(yMin, s.Y[i]); yMax = Math.Max(yMax, s.Y[i]);
            }
        }
        bool any = xMin <= xMax;
        var x = any ? Axis.Linear(xMin, xMax) : Axis.Linear(double.NaN, double.NaN);
        var y = LogY ? (any ? Axis.Log(yMin, yMax) : Axis.Log(double.NaN, double.NaN))
                     : (any ? Axis.Linear(yMin, yMax) : Axis.Linear(double.NaN, double.NaN));
        return (x, y);
    }

    internal override IReadOnlyList<LegendEntry> LegendEntries()
    {
        // A single unnamed line needs no legend.
        if (Series.Count == 1 && string.IsNullOrEmpty(Series[0].Name)) return [];
        return Series.Select((s, i) => new LegendEntry(s.Name, s.Color ?? ColorOf(i, Series.Count), s.Dash ?? DashOf(i), false)).ToList();
    }

    protected override void DrawSeries(SvgBuilder svg, Axis x, Axis y, ChartStyle style)
    {
        for (int i = 0; i < Series.Count; i++)
        {
            var s = Series[i];
            string color = s.Color ?? ColorOf(i, Series.Count);
            string? dash = s.Dash ?? DashOf(i);
            svg.OpenGroup(s.Name, "class=\"series\"");
            var path = new PathData();
            double columns = Math.Abs(x.PixelEnd - x.PixelStart);
            if (s.X.Length > PointsPerPixel * columns && IsSorted(s.X)) AppendDecimated(path, s, x, y);
            else
            {
                for (int p = 0; p < s.X.Length; p++)
                {
                    if (Shows(s.X[p], s.Y[p])) path.To(x.Map(s.X[p]), y.Map(s.Y[p]));
                    else path.Break();
                }
            }
            if (!path.IsEmpty) svg.Path(path.ToString(), color, style.LineWidth, null, dash: dash);
            if (Markers)
            {
                var dots = new PathData();
                for (int p = 0; p < s.X.Length; p++)
                {
                    if (!Shows(s.X[p], s.Y[p])) continue;
                    dots.To(x.Map(s.X[p]), y.Map(s.Y[p]));
                    dots.Break();
                }
                if (!dots.IsEmpty) svg.Path(dots.ToString(), color, style.LineWidth * 3, null);
            }
            svg.CloseGroup();
        }
    }

    private static bool IsSorted(double[] values)
    {
        for (int i = 1; i < values.Length; i++) if (values[i] < values[i - 1]) return false;
        return true;
    }

    /// <summary>Keeps each pixel column's lowest and highest point, in their original order: the drawn envelope is unchanged.</summary>
    private void AppendDecimated(PathData path, LineSeries s, Axis x, Axis y)
    {
        int column = int.MinValue, lowIndex = -1, highIndex = -1;
        void Flush()
        {
            if (lowIndex < 0) return;
            int first = Math.Min(lowIndex, highIndex), second = Math.Max(lowIndex, highIndex);
            path.To(x.Map(s.X[first]), y.Map(s.Y[first]));
            if (second != first) path.To(x.Map(s.X[second]), y.Map(s.Y[second]));
            lowIndex = highIndex = -1;
        }
        for (int p = 0; p < s.X.Length; p++)
        {
            if (!Shows(s.X[p], s.Y[p])) { Flush(); path.Break(); column = int.MinValue; continue; }
            int c = (int)Math.Floor(x.Map(s.X[p]));
            if (c != column) { Flush(); column = c; lowIndex = highIndex = p; continue; }
            if (s.Y[p] < s.Y[lowIndex]) lowIndex = p;
            if (s.Y[p] > s.Y[highIndex]) highIndex = p;
        }
        Flush();
    }
}
