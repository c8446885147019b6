using System.CommandLine;
using System.Text.Json.Nodes;
using Microsoft.ML.BatchNormMlp;

namespace BatchNormMlp.Cli.Commands;

/// <summary><c>bnmlp sample</c>: draws names from a model (deterministic for a seed).</summary>
internal static class SampleCommand
{
    public static Command Create()
    {
        Option<string?> model = CommonOptions.Model();
        Option<int> count = CommonOptions.Int("--count", 10, 1, CharacterModelDefaults.MaxSampleCount, "Names to draw");
        Option<long> seed = CommonOptions.Long("--seed", 0, int.MinValue, int.MaxValue, "Seed of the draws; the same seed gives the same names.");
        Option<double?> temperature = CommonOptions.PositiveNumber("--temperature", CharacterModelDefaults.MaxTemperature, "Divides the logits before the softmax: below 1 is more conservative, above 1 more adventurous; default 1");
        Option<int> topK = CommonOptions.Int("--top-k", 0, 0, 65536, "Draw only among the K most likely symbols; 0: all");
        Option<int> maxLength = CommonOptions.Int("--max-length", CharacterModelDefaults.MaxNameLength, 1, CharacterModelDefaults.MaxNameLengthLimit, "Stop a name after this many symbols");
        var command = new Command("sample", "Draw names from a model.") { model, count, seed, temperature, topK, maxLength };
        CommandAction.Set(command, (parse, output, figures) =>
        {
            string path = parse.GetValue(model)!;
            CharacterModel m = CharacterData.LoadModel(path);
            if (parse.GetValue(topK) > m.Vocabulary.Count)
                throw new UserErrorException($"--top-k is {parse.GetValue(topK)} but the model knows {m.Vocabulary.Count} symbols; use 0 (all) to {m.Vocabulary.Count}.");
            float t = (float)(parse.GetValue(temperature) ?? CharacterModelDefaults.Temperature);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            IReadOnlyList<string> names = m.Sample(parse.GetValue(count), (int)parse.GetValue(seed), t, parse.GetValue(topK), parse.GetValue(maxLength));
            double seconds = clock.Elapsed.TotalSeconds;
            foreach (string name in names) output.Line(name);
            figures["model"] = Path.GetFullPath(path);
            figures["count"] = names.Count;
            figures["seed"] = parse.GetValue(seed);
            figures["temperature"] = t;
            figures["topK"] = parse.GetValue(topK);
            figures["maxLength"] = parse.GetValue(maxLength);
            figures["names"] = new JsonArray([.. names.Select(n => (JsonNode)n)]);
            figures["seconds"] = Math.Round(seconds, 4);
        });
        return command;
    }
}
