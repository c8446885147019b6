using System.CommandLine;
using System.Text.Json.Nodes;
using Microsoft.ML.BatchNormMlp;

namespace BatchNormMlp.Cli.Commands;

/// <summary><c>bnmlp export</c>: writes a model as ONNX (input int64 <c>ids</c> [N, context], output float <c>logits</c> [N, vocabulary]).</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        Option<string?> model = CommonOptions.Model();
        Option<string> format = CommonOptions.Choice("--format", "onnx", ["onnx"], "The output format");
        Option<string?> output = CommonOptions.Out("Where to write the exported model, e.g. model.onnx.");
        var command = new Command("export", "Export a model to ONNX (IR 8, opset 13; folded or not).") { model, format, output };
        CommandAction.Set(command, (parse, console, figures) =>
        {
            string path = parse.GetValue(model)!, outPath = parse.GetValue(output)!;
            CharacterModel m = CharacterData.LoadModel(path);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
            m.ExportOnnx(outPath);
            long bytes = new FileInfo(outPath).Length;
            console.Line($"exported: {path} -> {outPath} (ONNX, {bytes} bytes; input int64 ids [N, {m.ContextLength}], output float logits [N, {m.Vocabulary.Count}])");
            figures["model"] = Path.GetFullPath(path);
            figures["format"] = parse.GetRequiredValue(format);
            figures["out"] = Path.GetFullPath(outPath);
            figures["bytes"] = bytes;
            figures["folded"] = m.IsFolded;
        });
        return command;
    }
}
