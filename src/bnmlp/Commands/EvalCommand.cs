using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.BatchNormMlp;
using Microsoft.ML.BatchNormMlp.Featurization;

namespace BatchNormMlp.Cli.Commands;

/// <summary>
/// <c>bnmlp eval</c>: loss, perplexity and top-1 accuracy of a model on a split of the names corpus. The split is
/// recomputed from the data the way <c>bnmlp train</c> made it (Python's shuffle with seed 42, then 80/10/10: the
/// seeds' split). Train has no option to change the split, so the model file need not remember it.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        Option<string?> model = CommonOptions.Model();
        Option<string?> data = CommonOptions.Data();
        Option<string> split = CommonOptions.Choice("--split", "dev", CharacterData.SplitNames, "Which names to evaluate on: a part of the training split, or every name");
        var command = new Command("eval", "Loss, perplexity and top-1 accuracy of a model on a split of names.txt.") { model, data, split };
        CommandAction.Set(command, (parse, output, figures) =>
            Run(parse.GetValue(model)!, parse.GetValue(data), parse.GetRequiredValue(split), output, figures));
        return command;
    }

    private static void Run(string modelPath, string? dataPath, string split, CommandOutput output, JsonObject figures)
    {
        CharacterModel model = CharacterData.LoadModel(modelPath);
        CharacterData.Corpus corpus = CharacterData.Load(dataPath);
        string[] parts = split == "all" ? ["train", "dev", "test"] : [split];
        var rows = new List<IReadOnlyList<string>>();
        var results = new JsonObject();
        foreach (string part in parts)
        {
            IReadOnlyList<string> names = corpus.Part(part);
            if (names.Count == 0) throw new UserErrorException($"The {part} split of '{corpus.Path}' is empty ({corpus.Names.Names.Count} names in all).");
            CharacterModelMetrics m = model.Evaluate(CharacterData.Featurize(names, model.Vocabulary, model.ContextLength, corpus.Path));
            rows.Add([part, Format(m.Loss, "F4"), Format(m.Perplexity, "F3"), Format(m.Top1Accuracy * 100, "F2") + "%", m.Count.ToString(CultureInfo.InvariantCulture)]);
            results[part] = new JsonObject { ["loss"] = m.Loss, ["perplexity"] = m.Perplexity, ["top1Accuracy"] = m.Top1Accuracy, ["rows"] = m.Count, ["names"] = names.Count };
        }
        output.Line($"model: {modelPath} ({model})");
        output.Line($"data: {corpus.Path}, split with seed {CorpusSplit.DefaultSeed}, 80% / 10% / 10%");
        output.Table(["split", "loss", "perplexity", "top-1", "rows"], rows);

        figures["model"] = Path.GetFullPath(modelPath);
        figures["data"] = corpus.Path;
        figures["folded"] = model.IsFolded;
        figures["splits"] = results;
        if (parts.Length == 1)
        {
            foreach (var (key, value) in results[split]!.AsObject()) figures[key] = value!.DeepClone();
        }
    }

    private static string Format(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
