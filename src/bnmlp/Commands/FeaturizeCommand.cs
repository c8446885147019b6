using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.BatchNormMlp;
using Microsoft.ML.BatchNormMlp.Featurization;

namespace BatchNormMlp.Cli.Commands;

/// <summary>
/// <c>bnmlp featurize</c>: loads a names corpus, builds its vocabulary, splits it as the seeds do and turns each
/// split into context windows; prints the vocabulary, the counts and a few rows. It is what training will read.
/// </summary>
internal static class FeaturizeCommand
{
    public static Command Create()
    {
        Option<string?> data = CommonOptions.Data();
        Option<int> context = CommonOptions.Int("--context", 3, 1, 1024, "Previous symbols in each row's context");
        Option<long> seed = CommonOptions.Seed(CorpusSplit.DefaultSeed, "Seed of the shuffle before splitting; 42 gives the seeds' split (Python-compatible).");
        Option<int> rows = CommonOptions.Int("--rows", 6, 0, 1000, "Training rows to print");
        Option<string> boundary = CommonOptions.Symbol("--boundary", Vocabulary.DefaultBoundarySymbol,
            "The boundary symbol (id 0): one character that the corpus does not use.");

        var command = new Command("featurize", "Load names, build the vocabulary, split and featurize into context windows; print the counts.")
        {
            data, context, seed, rows, boundary,
        };
        CommandAction.Set(command, (parse, output, figures) => Run(
            parse.GetValue(data), parse.GetValue(context), parse.GetValue(seed), parse.GetValue(rows), parse.GetRequiredValue(boundary),
            output, figures));
        return command;
    }

    private static void Run(string? dataPath, int contextLength, long seed, int rowsToShow, string boundary, CommandOutput output, JsonObject figures)
    {
        var clock = Stopwatch.StartNew();
        string path = DataPaths.Resolve(DataPaths.Names, dataPath);
        NameCorpus corpus = NameCorpus.Load(path);
        Vocabulary vocabulary = Vocabulary.FromCorpus(corpus, boundary);
        CorpusSplit split = CorpusSplit.Create(corpus.Names, seed);
        foreach (IReadOnlyList<string> names in new[] { split.Train, split.Dev, split.Test })
        {
            long rows = ContextWindowFeaturizer.CountRows(names);
            if (!ContextWindowFeaturizer.Fits(rows, contextLength))
                throw new UserErrorException(
                    $"{rows} rows of {contextLength} context symbols are more than one array holds ({Array.MaxLength} ids); use a smaller --context or a smaller corpus.");
        }
        (string Name, IReadOnlyList<string> Names, ContextWindows Windows)[] parts =
        [
            ("train", split.Train, ContextWindowFeaturizer.Featurize(split.Train, vocabulary, contextLength)),
            ("dev", split.Dev, ContextWindowFeaturizer.Featurize(split.Dev, vocabulary, contextLength)),
            ("test", split.Test, ContextWindowFeaturizer.Featurize(split.Test, vocabulary, contextLength)),
        ];
        int totalRows = parts.Sum(p => p.Windows.Count);
        double seconds = clock.Elapsed.TotalSeconds;
        ContextWindows train = parts[0].Windows;
        string[] shown = [.. Enumerable.Range(0, Math.Min(rowsToShow, train.Count)).Select(r => DescribeRow(train, r, vocabulary))];

        output.Line($"names: {path}");
        output.Line($"  {corpus.Names.Count} names, {corpus.BlankLines} blank line(s) skipped");
        output.Line($"vocabulary: {vocabulary.Count} symbols, id 0 is the boundary '{Display(vocabulary.BoundarySymbol)}', then code-point order");
        output.Line($"  {Display(string.Concat(vocabulary.Symbols))}");
        output.Line($"context: {contextLength} symbols; split: Python-compatible shuffle with seed {seed}, then 80% / 10% / 10%");
        output.Table(["split", "names", "rows"],
        [
            .. parts.Select(p => (IReadOnlyList<string>)[p.Name, Count(p.Names.Count), Count(p.Windows.Count)]),
            ["total", Count(corpus.Names.Count), Count(totalRows)],
        ]);
        if (shown.Length > 0)
        {
            output.Line($"first {shown.Length} training rows (context ---> next):");
            foreach (string row in shown) output.Line($"  {row}");
        }

        figures["data"] = path;
        figures["names"] = corpus.Names.Count;
        figures["blankLines"] = corpus.BlankLines;
        figures["vocabularySize"] = vocabulary.Count;
        figures["vocabulary"] = new JsonArray([.. vocabulary.Symbols.Select(s => (JsonNode)s)]);
        figures["context"] = contextLength;
        figures["seed"] = seed;
        figures["rows"] = totalRows;
        var splits = new JsonObject();
        foreach (var (name, names, windows) in parts) splits[name] = new JsonObject { ["names"] = names.Count, ["rows"] = windows.Count };
        figures["splits"] = splits;
        figures["sampleRows"] = new JsonArray([.. shown.Select(s => (JsonNode)s)]);
        // For scale checks: the whole command (load, vocabulary, split, featurize) and the process' peak memory.
        figures["seconds"] = Math.Round(seconds, 3);
        figures["rowsPerSecond"] = Math.Round(totalRows / Math.Max(seconds, 1e-9));
        figures["peakWorkingSetBytes"] = Process.GetCurrentProcess().PeakWorkingSet64;
    }

    private static string DescribeRow(ContextWindows windows, int row, Vocabulary vocabulary) =>
        $"{Display(vocabulary.Decode(windows.Context(row)))} ---> {Display(vocabulary.GetSymbol(windows.Targets[row]))}";

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    // A space or other blank symbol would be invisible in the listing.
    private static string Display(string text) => string.Concat(text.EnumerateRunes().Select(r => Rune.IsWhiteSpace(r) ? "␣" : r.ToString()));
}
