using System.Text;
using System.Text.Json;

namespace Microsoft.ML.BatchNormMlp.Export;

/// <summary>
/// The <see cref="MlpConfig"/> as the JSON object stored in a model file's <c>config</c> metadata, with
/// snake_case keys so that Python reads it naturally:
/// <c>{"context_length":3,"vocabulary_size":27,"embedding_width":10,"dense_input_width":0,"output_width":27,
/// "hidden_widths":[200],"activation":"tanh","block_style":"post_activation","residual":false,"hidden_bias":false,
/// "hidden_batch_norm":true,"output_bias":true,"output_batch_norm":false,"batch_norm_epsilon":1e-05,
/// "batch_norm_momentum":0.1}</c>, and <c>"activation_groups":["tanh","relu"]</c> only where the network has them
/// (<see cref="MlpConfig.ActivationGroups"/>: a merged ensemble of members of different activations), so that every
/// other model's file is what it was before that key existed. Reading is strict: every key but that one is
/// required, none other is allowed, and values must describe a buildable network.
/// </summary>
internal static class MlpConfigJson
{
    private static readonly string[] Keys =
    [
        "context_length", "vocabulary_size", "embedding_width", "dense_input_width", "output_width", "hidden_widths",
        "activation", "block_style", "residual", "hidden_bias", "hidden_batch_norm", "output_bias", "output_batch_norm",
        "batch_norm_epsilon", "batch_norm_momentum",
    ];

    private const string GroupsKey = "activation_groups";

    private const int MaxWidth = 1 << 24; // far above any real layer; keeps products of two widths inside a long
    private const int MaxLayers = 10_000;

    public static string Write(MlpConfig c)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("context_length", c.ContextLength);
            json.WriteNumber("vocabulary_size", c.VocabularySize);
            json.WriteNumber("embedding_width", c.EmbeddingWidth);
            json.WriteNumber("dense_input_width", c.DenseInputWidth);
            json.WriteNumber("output_width", c.OutputWidth);
            json.WriteStartArray("hidden_widths");
            foreach (int w in c.HiddenWidths) json.WriteNumberValue(w);
            json.WriteEndArray();
            json.WriteString("activation", Name(c.Activation));
            if (c.ActivationGroups is { } groups)
            {
                json.WriteStartArray(GroupsKey);
                foreach (var g in groups) json.WriteStringValue(Name(g));
                json.WriteEndArray();
            }
            json.WriteString("block_style", c.BlockStyle switch { BlockStyle.PostActivation => "post_activation", BlockStyle.PreActivation => "pre_activation", _ => throw new ArgumentOutOfRangeException(nameof(c)) });
            json.WriteBoolean("residual", c.Residual);
            json.WriteBoolean("hidden_bias", c.HiddenBias);
            json.WriteBoolean("hidden_batch_norm", c.HiddenBatchNorm);
            json.WriteBoolean("output_bias", c.OutputBias);
            json.WriteBoolean("output_batch_norm", c.OutputBatchNorm);
            json.WriteNumber("batch_norm_epsilon", c.BatchNormEpsilon);
            json.WriteNumber("batch_norm_momentum", c.BatchNormMomentum);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Name(Activation a) => a switch { Activation.Tanh => "tanh", Activation.Relu => "relu", _ => throw new ArgumentOutOfRangeException(nameof(a), a, "Unknown activation.") };

    private static Activation ParseActivation(string text, string where) => text switch
    {
        "tanh" => Activation.Tanh,
        "relu" => Activation.Relu,
        _ => throw new FormatException($"{where} is '{SafeTensors.Show(text)}', not 'tanh' or 'relu'"),
    };

    /// <exception cref="FormatException">The text is not a complete, valid config; the message names the key.</exception>
    public static MlpConfig Read(string text)
    {
        try
        {
            return ReadChecked(text);
        }
        catch (InvalidOperationException ex) // JsonElement.GetString on an escape that is not valid UTF-16 (a lone "\ud800")
        {
            throw new FormatException($"a string that is not valid Unicode ({ex.Message})", ex);
        }
    }

    private static MlpConfig ReadChecked(string text)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 4 }); }
        catch (JsonException ex) { throw new FormatException($"not valid JSON ({ex.Message})", ex); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new FormatException($"a JSON {root.ValueKind}, not an object");
            var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var p in root.EnumerateObject())
            {
                if (Array.IndexOf(Keys, p.Name) < 0 && p.Name != GroupsKey) throw new FormatException($"unexpected key '{SafeTensors.Show(p.Name)}'");
                if (!values.TryAdd(p.Name, p.Value)) throw new FormatException($"key '{SafeTensors.Show(p.Name)}' appears twice");
            }
            foreach (var key in Keys)
                if (!values.ContainsKey(key)) throw new FormatException($"missing key '{key}'");

            int Int(string key, int min)
            {
                var v = values[key];
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int n) || n < min || n > MaxWidth)
                    throw new FormatException($"'{key}' is {SafeTensors.Show(v.GetRawText())}, not an integer in [{min}, {MaxWidth}]");
                return n;
            }
            bool Bool(string key) => values[key].ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new FormatException($"'{key}' is {SafeTensors.Show(values[key].GetRawText())}, not true or false"),
            };
            float Float(string key, float min, float max)
            {
                var v = values[key];
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetSingle(out float f) || !float.IsFinite(f) || f < min || f > max)
                    throw new FormatException($"'{key}' is {SafeTensors.Show(v.GetRawText())}, not a number in [{min}, {max}]");
                return f;
            }
            string Text(string key) => values[key].ValueKind == JsonValueKind.String
                ? values[key].GetString()!
                : throw new FormatException($"'{key}' is {SafeTensors.Show(values[key].GetRawText())}, not a string");

            var widthsElement = values["hidden_widths"];
            if (widthsElement.ValueKind != JsonValueKind.Array || widthsElement.GetArrayLength() > MaxLayers)
                throw new FormatException($"'hidden_widths' is not an array of at most {MaxLayers} widths");
            var widths = new List<int>();
            foreach (var w in widthsElement.EnumerateArray())
            {
                if (w.ValueKind != JsonValueKind.Number || !w.TryGetInt32(out int n) || n < 1 || n > MaxWidth)
                    throw new FormatException($"'hidden_widths' entry {widths.Count} is {SafeTensors.Show(w.GetRawText())}, not an integer in [1, {MaxWidth}]");
                widths.Add(n);
            }

            List<Activation> Groups(JsonElement element)
            {
                if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() is 0 or > MaxWidth)
                    throw new FormatException($"'{GroupsKey}' is not an array of 1 to {MaxWidth} activations");
                var list = new List<Activation>();
                foreach (var g in element.EnumerateArray())
                    list.Add(g.ValueKind == JsonValueKind.String
                        ? ParseActivation(g.GetString()!, $"'{GroupsKey}' entry {list.Count}")
                        : throw new FormatException($"'{GroupsKey}' entry {list.Count} is {SafeTensors.Show(g.GetRawText())}, not a string"));
                return list;
            }

            var config = new MlpConfig
            {
                ContextLength = Int("context_length", 0),
                VocabularySize = Int("vocabulary_size", 0),
                EmbeddingWidth = Int("embedding_width", 0),
                DenseInputWidth = Int("dense_input_width", 0),
                OutputWidth = Int("output_width", 1),
                HiddenWidths = widths,
                Activation = ParseActivation(Text("activation"), "'activation'"),
                ActivationGroups = values.TryGetValue(GroupsKey, out var groups) ? Groups(groups) : null,
                BlockStyle = Text("block_style") switch
                {
                    "post_activation" => BlockStyle.PostActivation,
                    "pre_activation" => BlockStyle.PreActivation,
                    var b => throw new FormatException($"'block_style' is '{SafeTensors.Show(b)}', not 'post_activation' or 'pre_activation'"),
                },
                Residual = Bool("residual"),
                HiddenBias = Bool("hidden_bias"),
                HiddenBatchNorm = Bool("hidden_batch_norm"),
                OutputBias = Bool("output_bias"),
                OutputBatchNorm = Bool("output_batch_norm"),
                BatchNormEpsilon = Float("batch_norm_epsilon", float.Epsilon, 1f),
                BatchNormMomentum = Float("batch_norm_momentum", 0f, 1f),
            };
            if (Problem(config) is string problem)
                throw new FormatException(problem);
            return config;
        }
    }

    /// <summary>
    /// Why <paramref name="c"/> cannot describe a network (ranges and the rules between fields), or null when it can.
    /// <see cref="Read"/> applies the same rules to a file's config; the other doors (saving, folding, export) apply
    /// them to configs built in code.
    /// </summary>
    public static string? Problem(MlpConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        foreach (var (key, value, min) in (ReadOnlySpan<(string, int, int)>)[
            ("context_length", c.ContextLength, 0), ("vocabulary_size", c.VocabularySize, 0), ("embedding_width", c.EmbeddingWidth, 0),
            ("dense_input_width", c.DenseInputWidth, 0), ("output_width", c.OutputWidth, 1)])
            if (value < min || value > MaxWidth)
                return $"'{key}' is {value}, not an integer in [{min}, {MaxWidth}]";
        if (c.HiddenWidths is null || c.HiddenWidths.Count > MaxLayers)
            return $"'hidden_widths' is not an array of at most {MaxLayers} widths";
        for (int i = 0; i < c.HiddenWidths.Count; i++)
            if (c.HiddenWidths[i] < 1 || c.HiddenWidths[i] > MaxWidth)
                return $"'hidden_widths' entry {i} is {c.HiddenWidths[i]}, not an integer in [1, {MaxWidth}]";
        if (!Enum.IsDefined(c.Activation)) return $"'activation' is {(int)c.Activation}, not tanh or relu";
        if (!Enum.IsDefined(c.BlockStyle)) return $"'block_style' is {(int)c.BlockStyle}, not post_activation or pre_activation";
        if (!(c.BatchNormEpsilon >= float.Epsilon && c.BatchNormEpsilon <= 1f))
            return $"'batch_norm_epsilon' is {c.BatchNormEpsilon}, not a number in [{float.Epsilon}, 1]";
        if (!(c.BatchNormMomentum >= 0f && c.BatchNormMomentum <= 1f))
            return $"'batch_norm_momentum' is {c.BatchNormMomentum}, not a number in [0, 1]";
        if (!c.IsDense && (c.ContextLength < 1 || c.VocabularySize < 1 || c.EmbeddingWidth < 1))
            return "a symbol model needs 'context_length', 'vocabulary_size' and 'embedding_width' of at least 1 (or a 'dense_input_width')";
        if ((long)c.ContextLength * c.EmbeddingWidth > MaxWidth)
            return $"'context_length' x 'embedding_width' exceeds {MaxWidth}";
        if (c.BlockStyle == BlockStyle.PreActivation && c.HiddenWidths.Count == 0)
            return "a pre-activation network needs at least one hidden width (its stem)";
        return c.ActivationGroupsProblem() is string problem ? $"'{GroupsKey}': {problem}" : null;
    }
}
