using System.CommandLine;
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
        var boundary = new Option<string>("--boundary")
        {
            Description = "The boundary symbol (id 0): one character that the corpus does not use.",
            DefaultValueFactory = _ => Vocabulary.DefaultBoundarySymbol,
            HelpName = "SYMBOL",
        };
        boundary.Validators.Add(result =>
        {
            string value = result.GetValueOrDefault<string>() ?? "";
            if (value.EnumerateRunes().Count() != 1 || Rune.IsControl(Rune.GetRuneAt(value, 0)))
                result.AddError($"--boundary must be exactly one printable character; got \"{value}\".");
        });

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
        string path = DataPaths.Resolve(DataPaths.Names, dataPath);
        NameCorpus corpus = NameCorpus.Load(path);
        Vocabulary vocabulary = Vocabulary.FromCorpus(corpus, boundary);
        CorpusSplit split = CorpusSplit.Create(corpus.Names, seed);
        (string Name, IReadOnlyList<string> Names, ContextWindows Windows)[] parts =
        [
            ("train", split.Train, ContextWindowFeaturizer.Featurize(split.Train, vocabulary, contextLength)),
            ("dev", split.Dev, ContextWindowFeaturizer.Featurize(split.Dev, vocabulary, contextLength)),
            ("test", split.Test, ContextWindowFeaturizer.Featurize(split.Test, vocabulary, contextLength)),
        ];
        int totalRows = parts.Sum(p => p.Windows.Count);
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
    }

    private static string DescribeRow(ContextWindows windows, int row, Vocabulary vocabulary) =>
        $"{Display(vocabulary.Decode(windows.Context(row)))} ---> {Display(vocabulary.GetSymbol(windows.Targets[row]))}";

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    // A space or other blank symbol would be invisible in the listing.
    private static string Display(string text) => string.Concat(text.EnumerateRunes().Select(r => Rune.IsWhiteSpace(r) ? "␣" : r.ToString()));
}
