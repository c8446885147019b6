using System.Text.Json;
using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Export;

/// <summary>
/// Everything a model file holds: the architecture, the vocabulary (symbols in id order, boundary symbol first;
/// null for dense-input models), whether the tensors are in the folded layout, and the tensors by name.
/// </summary>
internal sealed record ModelState(MlpConfig Config, IReadOnlyList<string>? Vocabulary, bool Folded, IReadOnlyDictionary<string, float[]> Tensors)
{
    /// <summary>Whether the vocabulary's last symbol is the reserved unknown symbol (metadata <c>unknown_symbol</c> = <c>last</c>).</summary>
    public bool LastSymbolIsUnknown { get; init; }

    /// <summary>The names and shapes the tensors must have: <see cref="TensorLayout.Expected"/> or, folded, <see cref="TensorLayout.ExpectedFolded"/>.</summary>
    public IReadOnlyList<TensorSpec> Layout => Folded ? TensorLayout.ExpectedFolded(Config) : TensorLayout.Expected(Config);
}

/// <summary>
/// The model file: a safetensors file whose <c>__metadata__</c> holds <c>format</c> = <c>bnmlp/1</c>,
/// <c>config</c> (the <see cref="MlpConfig"/> as a JSON object, see <see cref="MlpConfigJson"/>), <c>vocabulary</c>
/// (a JSON array of strings; absent for dense models) and <c>folded</c> (<c>true</c> or <c>false</c>), and whose
/// tensors are exactly those of the layout. Loading checks all of it; docs/model-format.md describes it for readers
/// in other languages.
/// </summary>
internal static class ModelFile
{
    public const string FormatName = "bnmlp/1";

    /// <summary>Optional metadata entry: <c>last</c> when the vocabulary's last symbol is the reserved unknown symbol.</summary>
    public const string UnknownSymbolKey = "unknown_symbol";

    public static void Save(string path, ModelState model)
    {
        ValidateVocabulary(model.Config, model.Vocabulary, message => new ArgumentException($"Cannot save '{path}': {message}.", nameof(model)));
        var tensors = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        var layout = model.Layout;
        foreach (var spec in layout)
        {
            if (!model.Tensors.TryGetValue(spec.Name, out var data))
                throw new ArgumentException($"Cannot save '{path}': tensor '{spec.Name}' [{Dims(spec.Shape)}] is missing.", nameof(model));
            if (data.Length != spec.ElementCount)
                throw new ArgumentException($"Cannot save '{path}': tensor '{spec.Name}' holds {data.Length} floats but its shape [{Dims(spec.Shape)}] needs {spec.ElementCount}.", nameof(model));
            tensors.Add(spec.Name, new NamedTensor(spec.Shape, data));
        }
        var unexpected = model.Tensors.Keys.Where(k => !tensors.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0)
            throw new ArgumentException($"Cannot save '{path}': tensor(s) {string.Join(", ", unexpected.Select(n => $"'{n}'"))} are not part of the {(model.Folded ? "folded " : "")}layout.", nameof(model));

        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["config"] = MlpConfigJson.Write(model.Config),
            ["folded"] = model.Folded ? "true" : "false",
        };
        if (model.Vocabulary is not null)
            metadata["vocabulary"] = JsonSerializer.Serialize(model.Vocabulary.ToArray(), VocabularyJson.Default.StringArray);
        if (model.LastSymbolIsUnknown)
        {
            if (model.Vocabulary is null || model.Vocabulary.Count < 2)
                throw new ArgumentException($"Cannot save '{path}': an unknown symbol needs a vocabulary of at least two symbols.", nameof(model));
            metadata[UnknownSymbolKey] = "last";
        }
        SafeTensors.Write(path, tensors, metadata);
    }

    public static ModelState Load(string path)
    {
        var content = SafeTensors.Read(path);
        var meta = content.Metadata;
        ModelFormatException Fail(string message) => new($"'{path}' is not a valid {FormatName} model file: {message}.");

        if (!meta.TryGetValue("format", out var format))
            throw Fail("the metadata has no 'format' entry (a safetensors file from another tool?)");
        if (format != FormatName)
            throw Fail($"the metadata 'format' is '{format}', but this version reads '{FormatName}'");
        foreach (var key in meta.Keys)
            if (key is not ("format" or "config" or "vocabulary" or "folded" or UnknownSymbolKey))
                throw Fail($"the metadata has an unexpected entry '{key}'");

        if (!meta.TryGetValue("config", out var configText))
            throw Fail("the metadata has no 'config' entry");
        MlpConfig config;
        try { config = MlpConfigJson.Read(configText); }
        catch (FormatException ex) { throw new ModelFormatException($"'{path}' is not a valid {FormatName} model file: metadata 'config': {ex.Message}", ex); }

        bool folded = meta.TryGetValue("folded", out var foldedText) ? foldedText switch
        {
            "true" => true,
            "false" => false,
            _ => throw Fail($"the metadata 'folded' is '{foldedText}', not 'true' or 'false'"),
        } : throw Fail("the metadata has no 'folded' entry");

        IReadOnlyList<string>? vocabulary = null;
        if (meta.TryGetValue("vocabulary", out var vocabularyText) && vocabularyText != "null")
        {
            try { vocabulary = JsonSerializer.Deserialize(vocabularyText, VocabularyJson.Default.StringArray); }
            catch (JsonException ex) { throw new ModelFormatException($"'{path}' is not a valid {FormatName} model file: the metadata 'vocabulary' is not a JSON array of strings ({ex.Message}).", ex); }
            if (vocabulary is null || vocabulary.Any(s => s is null))
                throw Fail("the metadata 'vocabulary' is not a JSON array of strings");
        }
        ValidateVocabulary(config, vocabulary, message => Fail(message));
        bool unknown = false;
        if (meta.TryGetValue(UnknownSymbolKey, out var unknownText))
        {
            if (unknownText != "last") throw Fail($"the metadata '{UnknownSymbolKey}' is '{unknownText}', but the only value is 'last'");
            if (vocabulary is null || vocabulary.Count < 2) throw Fail($"the metadata '{UnknownSymbolKey}' needs a vocabulary of at least two symbols");
            unknown = true;
        }

        var layout = folded ? TensorLayout.ExpectedFolded(config) : TensorLayout.Expected(config);
        var missing = layout.Where(s => !content.Tensors.ContainsKey(s.Name)).ToList();
        if (missing.Count > 0)
            throw Fail($"the {(folded ? "folded " : "")}layout needs tensor(s) {string.Join(", ", missing.Select(s => $"'{s.Name}' [{Dims(s.Shape)}]"))}, which the file lacks");
        var expectedNames = layout.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var unexpected = content.Tensors.Keys.Where(n => !expectedNames.Contains(n)).Order(StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0)
            throw Fail($"tensor(s) {string.Join(", ", unexpected.Select(n => $"'{n}'"))} are not part of the {(folded ? "folded " : "")}layout of this config");

        var tensors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var spec in layout)
        {
            var t = content.Tensors[spec.Name];
            if (!t.Shape.SequenceEqual(spec.Shape))
                throw Fail($"tensor '{spec.Name}' has shape [{Dims(t.Shape)}] but the config needs [{Dims(spec.Shape)}]");
            tensors.Add(spec.Name, t.Data);
        }
        return new ModelState(config, vocabulary, folded, tensors) { LastSymbolIsUnknown = unknown };
    }

    private static void ValidateVocabulary(MlpConfig config, IReadOnlyList<string>? vocabulary, Func<string, Exception> fail)
    {
        if (config.IsDense)
        {
            if (vocabulary is not null)
                throw fail("a dense-input model has no vocabulary, but one is given");
            return;
        }
        if (vocabulary is null)
            throw fail($"a symbol model needs its vocabulary of {config.VocabularySize} symbols");
        if (vocabulary.Count != config.VocabularySize)
            throw fail($"the vocabulary holds {vocabulary.Count} symbols but the config's vocabulary size is {config.VocabularySize}");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Count; i++)
            if (!seen.Add(vocabulary[i]))
                throw fail($"the vocabulary repeats the symbol '{vocabulary[i]}' (id {i})");
    }

    private static string Dims(int[] shape) => string.Join(", ", shape);
}
