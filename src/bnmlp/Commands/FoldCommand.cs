using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.BatchNormMlp;

namespace BatchNormMlp.Cli.Commands;

/// <summary>
/// <c>bnmlp fold</c>: folds every BatchNorm of a model into the Linear layer beside it and writes the folded model.
/// With <c>--data</c> it checks the fold: the largest |logit difference| over every context of the corpus, and the
/// train/dev/test losses of both models.
/// </summary>
internal static class FoldCommand
{
    public static Command Create()
    {
        Option<string?> model = CommonOptions.Model();
        Option<string?> output = CommonOptions.Out("Where to write the folded model (safetensors, bnmlp/1).");
        Option<string?> data = CommonOptions.Path("--data", "The names file to check the fold on (every context of every name, and the losses of each split); without it, no check.");
        var command = new Command("fold", "Fold the BatchNorm layers into the Linear layers; with --data, compare the folded and unfolded model.") { model, output, data };
        CommandAction.Set(command, (parse, console, figures) => Run(parse.GetValue(model)!, parse.GetValue(output)!, parse.GetValue(data), console, figures));
        return command;
    }

    private static void Run(string modelPath, string outPath, string? dataPath, CommandOutput output, JsonObject figures)
    {
        CharacterModel loaded = CharacterData.LoadModel(modelPath);
        if (loaded is not BatchNormCharacterModel model)
            throw new UserErrorException($"'{modelPath}' is already folded; fold the model bnmlp train wrote.");
        if (!model.Configuration.HiddenBatchNorm && !model.Configuration.OutputBatchNorm)
            throw new UserErrorException($"'{modelPath}' has no BatchNorm layers, so there is nothing to fold.");
        // Read and featurize the data before the fold and the write, so that a bad --data leaves no file behind.
        CharacterData.Corpus? corpus = dataPath is null ? null : CharacterData.Load(dataPath);
        CharacterDataset? all = corpus is null ? null : CharacterData.Featurize(corpus.Names.Names, model.Vocabulary, model.ContextLength, corpus.Path);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        FoldedCharacterModel folded = model.Fold();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        folded.Save(outPath);
        output.Line($"folded: {modelPath} -> {outPath} ({folded})");
        figures["model"] = Path.GetFullPath(modelPath);
        figures["out"] = Path.GetFullPath(outPath);
        figures["foldSeconds"] = Math.Round(clock.Elapsed.TotalSeconds, 4);
        if (corpus is null || all is null) return;

        float[] before = model.PredictLogits(all), after = folded.PredictLogits(all); // [rows, vocabulary]
        double largest = 0;
        for (int i = 0; i < before.Length; i++) largest = Math.Max(largest, Math.Abs(before[i] - after[i]));
        output.Line(string.Create(CultureInfo.InvariantCulture, $"largest |logit difference| over all {all.Count} contexts of {corpus.Path}: {largest.ToString("0.00e+00", CultureInfo.InvariantCulture)}"));
        var rows = new List<IReadOnlyList<string>>();
        var losses = new JsonObject();
        foreach (string part in new[] { "train", "dev", "test" })
        {
            IReadOnlyList<string> names = corpus.Part(part);
            if (names.Count == 0) continue;
            CharacterDataset set = CharacterData.Featurize(names, model.Vocabulary, model.ContextLength, corpus.Path);
            double unfoldedLoss = model.Evaluate(set).Loss, foldedLoss = folded.Evaluate(set).Loss;
            rows.Add([part, F(unfoldedLoss), F(foldedLoss)]);
            losses[part] = new JsonObject { ["unfolded"] = unfoldedLoss, ["folded"] = foldedLoss };
        }
        output.Table(["split", "unfolded loss", "folded loss"], rows);
        figures["data"] = corpus.Path;
        figures["contexts"] = all.Count;
        figures["maxLogitDifference"] = largest;
        figures["losses"] = losses;
    }

    private static string F(double value) => value.ToString("F5", CultureInfo.InvariantCulture);
}
