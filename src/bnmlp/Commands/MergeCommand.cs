using System.CommandLine;
using System.Text.Json.Nodes;
using Microsoft.ML.BatchNormMlp;

namespace BatchNormMlp.Cli.Commands;

/// <summary>
/// <c>bnmlp merge</c>: one model file whose logits are the mean of several models' (an ensemble that every other
/// command reads as an ordinary model; see <see cref="BatchNormCharacterModel.Merge"/>).
/// </summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        // An option, not a positional argument: a mistyped option would otherwise be taken for a model file.
        Option<string[]> models = CommonOptions.Paths("--model",
            "The model files to merge (unfolded, one architecture and vocabulary), at least two: --model A --model B, or --model A B.");
        Option<string?> output = CommonOptions.Out("Where to write the merged model (safetensors, bnmlp/1).");
        var command = new Command("merge", "Merge models of one architecture into one model whose logits are their mean (an ensemble in one file).") { models, output };
        CommandAction.Set(command, (parse, console, figures) => Run(parse.GetValue(models) ?? [], parse.GetValue(output)!, console, figures));
        return command;
    }

    private static void Run(string[] paths, string outPath, CommandOutput output, JsonObject figures)
    {
        if (paths.Length < 2) throw new UserErrorException($"bnmlp merge needs at least two model files; got {paths.Length}.");
        var members = new List<BatchNormCharacterModel>();
        foreach (string path in paths)
        {
            CharacterModel loaded = CharacterData.LoadModel(path);
            if (loaded is not BatchNormCharacterModel model)
                throw new UserErrorException($"'{path}' is folded; merge the unfolded models bnmlp train wrote, then fold the result.");
            members.Add(model);
        }
        BatchNormCharacterModel merged;
        try { merged = BatchNormCharacterModel.Merge(members); }
        catch (ArgumentException e) { throw new UserErrorException($"Cannot merge {string.Join(", ", paths)}: {e.Message.Split(" (Parameter")[0]} (models count from 0 in the order given)"); }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        merged.Save(outPath);
        output.Line($"merged {paths.Length} models -> {outPath} ({merged})");
        figures["models"] = new JsonArray([.. paths.Select(p => (JsonNode)Path.GetFullPath(p))]);
        figures["out"] = Path.GetFullPath(outPath);
        figures["parameters"] = merged.ParameterCount;
    }
}
