using System.Globalization;

namespace BatchNormMlp.Samples.Reporting;

/// <summary>One tick: where it sits (in data units) and what it says.</summary>
internal readonly record struct Tick(double Value, string Label);

/// <summary>
/// Maps data values to pixels along one axis and owns the tick marks. Linear axes widen their domain to whole
/// 1-2-5 steps; log axes use decades (or 1-2-5 within a decade when the data spans less than about one).
/// </summary>
internal sealed class Axis
{
    public double Min { get; }
    public double Max { get; }
    public bool IsLog { get; }
    public IReadOnlyList<Tick> Ticks { get; }

    private double _pixelStart, _pixelEnd;

    private Axis(double min, double max, bool isLog, IReadOnlyList<Tick> ticks)
    {
        (Min, Max, IsLog, Ticks) = (min, max, isLog, ticks);
    }

    /// <summary>A linear axis covering [dataMin, dataMax] (NaN when there is no data), widened to nice ticks.</summary>
    public static Axis Linear(double dataMin, double dataMax, int targetTicks = 6, bool includeZero = false)
    {
        if (!double.IsFinite(dataMin) || !double.IsFinite(dataMax)) (dataMin, dataMax) = (0, 1);
        if (includeZero) { dataMin = Math.Min(dataMin, 0); dataMax = Math.Max(dataMax, 0); }
        if (dataMax - dataMin <= Math.Abs(dataMax) * 1e-12)
        {
            double pad = dataMin == 0 ? 1 : Math.Abs(dataMin) * 0.1;
            (dataMin, dataMax) = (dataMin - pad, dataMax + pad);
        }
        double step = NiceStep((dataMax - dataMin) / Math.Max(1, targetTicks - 1));
        // Rounding the step up can leave as few as three ticks; take the next finer step while it stays readable.
        double finer = FinerStep(step);
        if (TickCount(dataMin, dataMax, finer) <= targetTicks + 1) step = finer;
        double lo = Math.Floor(dataMin / step + 1e-9) * step;
        double hi = Math.Ceiling(dataMax / step - 1e-9) * step;
        var ticks = new List<Tick>();
        int count = (int)Math.Round((hi - lo) / step);
        for (int i = 0; i <= count; i++)
        {
            double v = lo + i * step;
            if (Math.Abs(v) < step * 1e-9) v = 0;
            ticks.Add(new Tick(v, FormatTick(v, step)));
        }
        return new Axis(lo, hi, false, ticks);
    }

    /// <summary>A log10 axis over positive data; falls back to [1, 10] without positive data.</summary>
    public static Axis Log(double dataMin, double dataMax)
    {
        if (!(dataMin > 0) || !double.IsFinite(dataMin) || !double.IsFinite(dataMax)) (dataMin, dataMax) = (1, 10);
        if (dataMax <= dataMin * (1 + 1e-12)) (dataMin, dataMax) = (dataMin / 2, dataMax * 2);
        double lo = Math.Log10(dataMin), hi = Math.Log10(dataMax);
        if (hi - lo < 1)
        {
            // Within a decade, decade marks say little (a loss from 1.5 to 3.6 would get only 2 and 3): pad the
            // frame by 4% and place linear 1-2-5 ticks inside it, as a person reads values off a short range.
            double pad = 0.04 * Math.Max(hi - lo, 0.02);
            double frameMin = Math.Pow(10, lo - pad), frameMax = Math.Pow(10, hi + pad);
            double step = NiceStep((frameMax - frameMin) / 5);
            if (TickCount(frameMin, frameMax, FinerStep(step)) <= 7) step = FinerStep(step);
            var inside = new List<Tick>();
            for (double v = Math.Ceiling(frameMin / step - 1e-9) * step; v <= frameMax * (1 + 1e-12); v += step)
                inside.Add(new Tick(v, FormatTick(v, step)));
            return new Axis(frameMin, frameMax, true, inside);
        }
        // Mantissa sets from sparse to dense: the first that puts enough ticks inside the data wins (two decades,
        // or three 1-2-5 values; otherwise every integer mantissa).
        double[][] mantissas = [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]];
        int firstDecade = (int)Math.Floor(lo) - 1, lastDecade = (int)Math.Ceiling(hi) + 1;
        int stride = Math.Max(1, (int)Math.Ceiling((lastDecade - firstDecade) / 10.0)); // many decades: label every n-th
        foreach (var set in mantissas)
        {
            var candidates = new List<double>();
            for (int d = firstDecade; d <= lastDecade; d++)
            {
                if (set.Length == 1 && (d - firstDecade) % stride != 0) continue;
                foreach (double m in set) candidates.Add(m * Math.Pow(10, d));
            }
            int inside = candidates.Count(c => c >= dataMin * (1 - 1e-9) && c <= dataMax * (1 + 1e-9));
            if (inside < (set.Length == 1 ? 2 : 3) && set.Length < 9) continue;
            // The frame widens to the candidates just outside the data, so it starts and ends on a tick.
            double below = candidates.Where(c => c <= dataMin * (1 + 1e-9)).Max();
            double above = candidates.Where(c => c >= dataMax * (1 - 1e-9)).Min();
            var ticks = candidates.Where(c => c >= below * (1 - 1e-9) && c <= above * (1 + 1e-9))
                                  .Select(v => new Tick(v, FormatLogTick(v))).ToList();
            return new Axis(below, above, true, ticks);
        }
        throw new InvalidOperationException("Unreachable: the densest mantissa set always brackets positive data.");
    }

    /// <summary>A categorical axis: one slot per label, centred on 0, 1, ..., n-1.</summary>
    public static Axis Categories(IReadOnlyList<string> labels)
    {
        var ticks = labels.Select((l, i) => new Tick(i, l)).ToList();
        return new Axis(-0.5, Math.Max(0, labels.Count - 1) + 0.5, false, ticks);
    }

    /// <summary>Sets the pixel span: <paramref name="start"/> is where <see cref="Min"/> lands.</summary>
    public void SetPixels(double start, double end) => (_pixelStart, _pixelEnd) = (start, end);

    public double PixelStart => _pixelStart;
    public double PixelEnd => _pixelEnd;

    /// <summary>Whether the value can be drawn on this axis (finite, and positive on a log axis).</summary>
    public bool CanShow(double value) => double.IsFinite(value) && (!IsLog || value > 0);

    public double Map(double value)
    {
        double t = IsLog
            ? (Math.Log10(value) - Math.Log10(Min)) / (Math.Log10(Max) - Math.Log10(Min))
            : (value - Min) / (Max - Min);
        return _pixelStart + t * (_pixelEnd - _pixelStart);
    }

    private static int TickCount(double min, double max, double step) =>
        (int)Math.Round(Math.Ceiling(max / step - 1e-9) - Math.Floor(min / step + 1e-9)) + 1;

    /// <summary>The 1-2-5 step just below <paramref name="step"/> (5 -> 2, 2 -> 1, 1 -> 0.5).</summary>
    private static double FinerStep(double step)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(step) + 1e-9));
        double m = Math.Round(step / power);
        return m >= 5 ? 2 * power : m >= 2 ? power : 0.5 * power;
    }

    /// <summary>The smallest of 1, 2, 5 times a power of ten that is at least <paramref name="rough"/>.</summary>
    public static double NiceStep(double rough)
    {
        if (!(rough > 0) || !double.IsFinite(rough)) return 1;
        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double m = rough / power;
        double nice = m <= 1 + 1e-9 ? 1 : m <= 2 + 1e-9 ? 2 : m <= 5 + 1e-9 ? 5 : 10;
        return nice * power;
    }

    /// <summary>Enough decimals to tell ticks <paramref name="step"/> apart; scientific for very small or large values.</summary>
    public static string FormatTick(double value, double step)
    {
        if (value == 0) return "0";
        double magnitude = Math.Max(Math.Abs(value), step);
        if (step < 1e-4 || magnitude >= 1e6) return Scientific(value, step);
        int decimals = Math.Max(0, (int)-Math.Floor(Math.Log10(step) + 1e-9));
        return value.ToString("F" + decimals, CultureInfo.InvariantCulture);
    }

    private static string FormatLogTick(double value)
    {
        double exponent = Math.Log10(value);
        if (value >= 1e-3 && value < 1e5) return value.ToString("0.###", CultureInfo.InvariantCulture);
        if (Math.Abs(exponent - Math.Round(exponent)) < 1e-9) return "1e" + ((int)Math.Round(exponent)).ToString(CultureInfo.InvariantCulture);
        return value.ToString("0.#e0", CultureInfo.InvariantCulture);
    }

    private static string Scientific(double value, double step)
    {
        int exponent = (int)Math.Floor(Math.Log10(Math.Abs(value)) + 1e-9);
        double mantissa = value / Math.Pow(10, exponent);
        // Digits needed so that neighbours one step apart still read differently.
        int digits = Math.Clamp((int)Math.Ceiling(Math.Log10(Math.Abs(value) / step) - 1e-9), 0, 6);
        string m = Math.Round(mantissa, digits).ToString("0." + new string('#', Math.Max(1, digits)), CultureInfo.InvariantCulture);
        return m + "e" + exponent.ToString(CultureInfo.InvariantCulture);
    }
}
