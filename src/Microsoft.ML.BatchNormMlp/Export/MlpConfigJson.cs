using System.Text;
using System.Text.Json;

namespace Microsoft.ML.BatchNormMlp.Export;

/// <summary>
/// The <see cref="MlpConfig"/> as the JSON object stored in a model file's <c>config</c> metadata, with
/// snake_case keys so that Python reads it naturally:
/// <c>{"context_length":3,"vocabulary_size":27,"embedding_width":10,"dense_input_width":0,"output_width":27,
/// "hidden_widths":[200],"activation":"tanh","block_style":"post_activation","residual":false,"hidden_bias":false,
/// "hidden_batch_norm":true,"output_bias":true,"output_batch_norm":false,"batch_norm_epsilon":1e-05,
/// "batch_norm_momentum":0.1}</c>. Reading is strict: every key is required, none other is allowed, and values
/// must describe a buildable network.
/// </summary>
internal static class MlpConfigJson
{
    private static readonly string[] Keys =
    [
        "context_length", "vocabulary_size", "embedding_width", "dense_input_width", "output_width", "hidden_widths",
        "activation", "block_style", "residual", "hidden_bias", "hidden_batch_norm", "output_bias", "output_batch_norm",
        "batch_norm_epsilon", "batch_norm_momentum",
    ];

    private const int MaxWidth = 1 << 24; // far above any real layer; keeps products of two widths inside a long

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
            json.WriteString("activation", c.Activation switch { Activation.Tanh => "tanh", Activation.Relu => "relu", _ => throw new ArgumentOutOfRangeException(nameof(c)) });
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

    /// <exception cref="FormatException">The text is not a complete, valid config; the message names the key.</exception>
    public static MlpConfig Read(string text)
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
                if (Array.IndexOf(Keys, p.Name) < 0) throw new FormatException($"unexpected key '{p.Name}'");
                if (!values.TryAdd(p.Name, p.Value)) throw new FormatException($"key '{p.Name}' appears twice");
            }
            foreach (var key in Keys)
                if (!values.ContainsKey(key)) throw new FormatException($"missing key '{key}'");

            int Int(string key, int min)
            {
                var v = values[key];
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int n) || n < min || n > MaxWidth)
                    throw new FormatException($"'{key}' is {v.GetRawText()}, not an integer in [{min}, {MaxWidth}]");
                return n;
            }
            bool Bool(string key) => values[key].ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new FormatException($"'{key}' is {values[key].GetRawText()}, not true or false"),
            };
            float Float(string key, float min, float max)
            {
                var v = values[key];
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetSingle(out float f) || !float.IsFinite(f) || f < min || f > max)
                    throw new FormatException($"'{key}' is {v.GetRawText()}, not a number in [{min}, {max}]");
                return f;
            }
            string Text(string key) => values[key].ValueKind == JsonValueKind.String
                ? values[key].GetString()!
                : throw new FormatException($"'{key}' is {values[key].GetRawText()}, not a string");

            var widthsElement = values["hidden_widths"];
            if (widthsElement.ValueKind != JsonValueKind.Array || widthsElement.GetArrayLength() > 10_000)
                throw new FormatException("'hidden_widths' is not an array of at most 10000 widths");
            var widths = new List<int>();
            foreach (var w in widthsElement.EnumerateArray())
            {
                if (w.ValueKind != JsonValueKind.Number || !w.TryGetInt32(out int n) || n < 1 || n > MaxWidth)
                    throw new FormatException($"'hidden_widths' entry {widths.Count} is {w.GetRawText()}, not an integer in [1, {MaxWidth}]");
                widths.Add(n);
            }

            var config = new MlpConfig
            {
                ContextLength = Int("context_length", 0),
                VocabularySize = Int("vocabulary_size", 0),
                EmbeddingWidth = Int("embedding_width", 0),
                DenseInputWidth = Int("dense_input_width", 0),
                OutputWidth = Int("output_width", 1),
                HiddenWidths = widths,
                Activation = Text("activation") switch
                {
                    "tanh" => Activation.Tanh,
                    "relu" => Activation.Relu,
                    var a => throw new FormatException($"'activation' is '{a}', not 'tanh' or 'relu'"),
                },
                BlockStyle = Text("block_style") switch
                {
                    "post_activation" => BlockStyle.PostActivation,
                    "pre_activation" => BlockStyle.PreActivation,
                    var b => throw new FormatException($"'block_style' is '{b}', not 'post_activation' or 'pre_activation'"),
                },
                Residual = Bool("residual"),
                HiddenBias = Bool("hidden_bias"),
                HiddenBatchNorm = Bool("hidden_batch_norm"),
                OutputBias = Bool("output_bias"),
                OutputBatchNorm = Bool("output_batch_norm"),
                BatchNormEpsilon = Float("batch_norm_epsilon", float.Epsilon, 1f),
                BatchNormMomentum = Float("batch_norm_momentum", 0f, 1f),
            };
            if (!config.IsDense && (config.ContextLength < 1 || config.VocabularySize < 1 || config.EmbeddingWidth < 1))
                throw new FormatException("a symbol model needs 'context_length', 'vocabulary_size' and 'embedding_width' of at least 1 (or a 'dense_input_width')");
            if ((long)config.ContextLength * config.EmbeddingWidth > MaxWidth)
                throw new FormatException($"'context_length' x 'embedding_width' exceeds {MaxWidth}");
            if (config.BlockStyle == BlockStyle.PreActivation && widths.Count == 0)
                throw new FormatException("a pre-activation network needs at least one hidden width (its stem)");
            return config;
        }
    }
}
