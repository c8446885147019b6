using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Tests.Featurization;

namespace Microsoft.ML.BatchNormMlp.Tests.Reliability;

/// <summary>
/// A generated corpus featurizes and trains with memory bounded by its rows: <c>bnmlp featurize</c> and
/// <c>bnmlp train</c> run in a child process (so the peak working set is their own) on names of 3 to 12 letters drawn
/// from a seeded <see cref="Rng"/>.
/// BNMLP_SCALE_NAMES sets the count: 200,000 in CI; the full run uses 1,000,000 (about 8 MB).
/// </summary>
public class ScaleTests
{
    private const int DefaultNames = 200_000;
    private const int Context = 3;

    /// <summary>The runtime and the CLI: about 35 MB for a three-name corpus.</summary>
    private const long BaselineBytes = 64L << 20;

    /// <summary>Each name held as a string, in the corpus list, the shuffled copy and its split (about 70 bytes).</summary>
    private const long BytesPerName = 100;

    [Test]
    public void GeneratedCorpus_FeaturizesWithPeakMemoryBoundedByItsRows()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("BNMLP_SCALE_NAMES"), out int n) && n > 0 ? n : DefaultNames;
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "names.txt");
        long expectedRows = WriteNames(path, count, seed: 11);

        var figures = RunFeaturize(path);
        long rows = figures.GetProperty("rows").GetInt64();
        long peak = figures.GetProperty("peakWorkingSetBytes").GetInt64();
        double seconds = figures.GetProperty("seconds").GetDouble();
        long rowBytes = rows * (Context + 1) * sizeof(int); // contexts and targets, as ints
        // Materializing anything per row beyond the two int arrays (a string, an array or a list per row) breaks this.
        long bound = BaselineBytes + rowBytes * 3 / 2 + BytesPerName * count;
        TestContext.Out.WriteLine(
            $"{count} names ({new FileInfo(path).Length / 1e6:F1} MB), {rows} rows of context {Context}: peak working set {peak / 1e6:F0} MB " +
            $"(rows as ints {rowBytes / 1e6:F0} MB; bound {bound / 1e6:F0} MB), {seconds:F2} s for the whole command, {rows / seconds:F0} rows/s");

        Assert.That(rows, Is.EqualTo(expectedRows));
        Assert.That(figures.GetProperty("names").GetInt32(), Is.EqualTo(count));
        Assert.That(figures.GetProperty("vocabularySize").GetInt32(), Is.EqualTo(27));
        Assert.That(peak, Is.LessThan(bound), "peak working set beyond the bound proportional to the rows");
    }

    [Test]
    public void GeneratedCorpus_TrainsWithPeakMemoryBoundedByItsRows()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("BNMLP_SCALE_NAMES"), out int n) && n > 0 ? n : DefaultNames;
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "names.txt");
        long rows = WriteNames(path, count, seed: 12);

        var figures = RunCli("train", "--data", path, "--steps", "2000", "--samples", "0", "--out", Path.Combine(temp.Path, "model.safetensors"), "--json");
        long peak = figures.GetProperty("peakWorkingSetBytes").GetInt64();
        long rowBytes = rows * (Context + 1) * sizeof(int);
        // Training adds the evaluation pass over the whole training split (logits in chunks, not per row) and the
        // network's workspaces; anything held per row beyond the int arrays breaks this.
        long bound = BaselineBytes + rowBytes * 2 + BytesPerName * count;
        TestContext.Out.WriteLine(
            $"{count} names, {rows} rows: trained 2000 steps at {figures.GetProperty("stepsPerSecond").GetDouble():F0} steps/s, " +
            $"evaluated in {figures.GetProperty("evaluationSeconds").GetDouble():F2} s; peak working set {peak / 1e6:F0} MB (bound {bound / 1e6:F0} MB)");

        Assert.That(figures.GetProperty("trainLoss").GetDouble(), Is.LessThan(Math.Log(27)), "training learnt nothing");
        Assert.That(peak, Is.LessThan(bound), "peak working set beyond the bound proportional to the rows");
    }

    /// <summary>Writes <paramref name="count"/> names of 3 to 12 lowercase letters; returns the rows they make (letters + 1 each).</summary>
    private static long WriteNames(string path, int count, ulong seed)
    {
        var rng = new Rng(seed);
        long rows = 0;
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 16);
        var name = new StringBuilder(12);
        for (int i = 0; i < count; i++)
        {
            name.Clear();
            int length = 3 + rng.NextInt(10);
            for (int k = 0; k < length; k++) name.Append((char)('a' + rng.NextInt(26)));
            writer.Write(name);
            writer.Write('\n');
            rows += length + 1;
        }
        return rows;
    }

    private static JsonElement RunFeaturize(string data) =>
        RunCli("featurize", "--data", data, "--context", $"{Context}", "--rows", "0", "--json");

    private static JsonElement RunCli(params string[] args)
    {
        string cli = Path.Combine(TestContext.CurrentContext.TestDirectory, "bnmlp.dll");
        Assert.That(File.Exists(cli), Is.True, $"{cli} is built beside the tests");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli);
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.That(process.WaitForExit(TimeSpan.FromMinutes(2)), Is.True, $"bnmlp {args[0]} did not finish");
        Assert.That(process.ExitCode, Is.EqualTo(0), stderr.Result);
        string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        return JsonDocument.Parse(last).RootElement.Clone();
    }

    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host)) return host;
        string? self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }
}
