namespace BatchNormMlp.Samples.Baselines;

/// <summary>The chosen smoothing and how the candidates scored on the dev rows.</summary>
internal sealed record SmoothingChoice(double K, double DevCrossEntropy, IReadOnlyList<(double K, double CrossEntropy)> Grid);

/// <summary>
/// Chooses add-k's k on dev rows: a log-spaced grid first, then a golden-section search in log k between the
/// best grid point's neighbours (dev cross-entropy is smooth in log k, and near the optimum nearly flat).
/// </summary>
internal static class SmoothingSearch
{
    /// <summary>1e-3 to 10, four points per decade.</summary>
    public static IReadOnlyList<double> DefaultGrid { get; } =
        Enumerable.Range(0, 17).Select(i => Math.Pow(10, -3 + i / 4.0)).ToArray();

    public static SmoothingChoice Choose(NGramRows dev, IReadOnlyList<double>? grid = null, bool refine = true)
    {
        grid ??= DefaultGrid;
        if (grid.Count == 0) throw new ArgumentException("The grid of smoothing values is empty.", nameof(grid));
        if (dev.Rows == 0) throw new ArgumentException("There are no dev rows to choose the smoothing k on.", nameof(dev));
        var scored = grid.Select(k => (K: k, CrossEntropy: dev.CrossEntropy(k))).ToArray();
        int best = 0;
        for (int i = 1; i < scored.Length; i++) if (scored[i].CrossEntropy < scored[best].CrossEntropy) best = i;
        var (bestK, bestCe) = scored[best];
        if (!refine || scored.Length < 2) return new SmoothingChoice(bestK, bestCe, scored);

        var sorted = scored.OrderBy(s => s.K).ToArray();
        int at = Array.FindIndex(sorted, s => s.K == bestK);
        double lo = Math.Log(sorted[Math.Max(0, at - 1)].K), hi = Math.Log(sorted[Math.Min(sorted.Length - 1, at + 1)].K);
        double Score(double logK) => dev.CrossEntropy(Math.Exp(logK));

        // Golden-section search: the bracket shrinks by 0.618 per step; 40 steps reach machine precision in log k.
        double ratio = (Math.Sqrt(5) - 1) / 2;
        double a = hi - ratio * (hi - lo), b = lo + ratio * (hi - lo);
        double fa = Score(a), fb = Score(b);
        for (int step = 0; step < 40; step++)
        {
            if (fa <= fb) { hi = b; b = a; fb = fa; a = hi - ratio * (hi - lo); fa = Score(a); }
            else { lo = a; a = b; fa = fb; b = lo + ratio * (hi - lo); fb = Score(b); }
        }
        double refinedK = Math.Exp(fa <= fb ? a : b), refinedCe = Math.Min(fa, fb);
        return refinedCe < bestCe ? new SmoothingChoice(refinedK, refinedCe, scored) : new SmoothingChoice(bestK, bestCe, scored);
    }
}
