using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Export;

/// <summary>
/// Everything a model file holds: the architecture, the vocabulary (symbols in id order, boundary symbol first;
/// null for dense-input models), whether the tensors are in the folded layout, and the tensors by name.
/// </summary>
internal sealed record ModelState(MlpConfig Config, IReadOnlyList<string>? Vocabulary, bool Folded, IReadOnlyDictionary<string, float[]> Tensors)
{
    /// <summary>The names and shapes the tensors must have: <see cref="TensorLayout.Expected"/> or, folded, <see cref="TensorLayout.ExpectedFolded"/>.</summary>
    public IReadOnlyList<TensorSpec> Layout => Folded ? TensorLayout.ExpectedFolded(Config) : TensorLayout.Expected(Config);

    /// <summary>Whether the vocabulary's last symbol is the reserved unknown symbol (metadata <c>unknown_symbol</c> = <c>last</c>).</summary>
    public bool LastSymbolIsUnknown { get; init; }
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

    /// <summary>The metadata entry holding the content checksum (lowercase hex SHA-256; see <see cref="AppendMetadata"/>).</summary>
    public const string ChecksumKey = "sha256";

    /// <summary>Optional metadata entry: <c>last</c> when the vocabulary's last symbol is the reserved unknown symbol.</summary>
    public const string UnknownSymbolKey = "unknown_symbol";

    public static void Save(string path, ModelState model)
    {
        if (MlpConfigJson.Problem(model.Config) is string problem)
            throw new ArgumentException($"Cannot save '{path}': the config is invalid: {problem}.", nameof(model));
        ModelValidation.CheckVocabulary(model.Config, model.Vocabulary, message => new ArgumentException($"Cannot save '{path}': {message}.", nameof(model)));
        var tensors = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        var layout = model.Layout;
        foreach (var spec in layout)
        {
            if (!model.Tensors.TryGetValue(spec.Name, out var data) || data is null)
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
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            AppendMetadata(hash, metadata);
            foreach (var name in tensors.Keys.Order(StringComparer.Ordinal)) // the order SafeTensors.Write stores them in
                hash.AppendData(MemoryMarshal.AsBytes(tensors[name].Data.AsSpan()));
            metadata[ChecksumKey] = Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        SafeTensors.Write(path, tensors, metadata);
    }

    /// <summary>
    /// Loads and checks a model file. Everything the header declares is checked against the config before any
    /// tensor is allocated, and the content checksum last, so a file loads with exactly the tensors, config and
    /// vocabulary that were saved, or not at all.
    /// </summary>
    /// <exception cref="ModelFormatException">Anything wrong with the file; the message names the file and the key or tensor.</exception>
    public static ModelState Load(string path)
    {
        ModelFormatException Fail(string message) => new($"'{path}' is not a valid {FormatName} model file: {message}.");
        MlpConfig? config = null;
        IReadOnlyList<string>? vocabulary = null;
        bool folded = false;
        IReadOnlyList<TensorSpec>? layout = null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        var content = SafeTensors.Read(path, header =>
        {
            (config, folded) = ReadMetadata(path, header.Metadata);
            // Every hidden layer has at least its weight: refuse a config of thousands of layers (a few bytes each in the
            // header) before building a layout whose size the file does not justify.
            if (config.HiddenWidths.Count >= header.Entries.Count)
                throw Fail($"the config describes {config.HiddenWidths.Count} hidden layers, but the file holds only {header.Entries.Count} tensors");
            layout = folded ? TensorLayout.ExpectedFolded(config) : TensorLayout.Expected(config);
            CheckTensors(header.Entries, layout, folded, Fail);
            // Only now, with the embedding's [vocabulary_size, E] floats proven present, is a vocabulary of that size worth reading.
            vocabulary = ReadVocabulary(path, config, header.Metadata);
            AppendMetadata(hash, header.Metadata);
        }, hash);

        if (!content.Metadata.TryGetValue(ChecksumKey, out var expected))
            throw Fail($"the metadata has no '{ChecksumKey}' entry (the checksum of its content)");
        string actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (!string.Equals(expected, actual, StringComparison.Ordinal))
            throw Fail($"the content does not match its checksum (metadata '{ChecksumKey}' is '{SafeTensors.Show(expected)}', the content hashes to '{actual}'): the file is corrupted or was edited");

        var tensors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var spec in layout!)
            tensors.Add(spec.Name, content.Tensors[spec.Name].Data);
        bool unknown = false;
        if (content.Metadata.TryGetValue(UnknownSymbolKey, out var unknownText))
        {
            if (unknownText != "last")
                throw Fail($"the metadata '{UnknownSymbolKey}' is '{SafeTensors.Show(unknownText)}', but the only value is 'last'");
            if (vocabulary is null || vocabulary.Count < 2)
                throw Fail($"the metadata '{UnknownSymbolKey}' needs a vocabulary of at least two symbols");
            unknown = true;
        }
        return new ModelState(config!, vocabulary, folded, tensors) { LastSymbolIsUnknown = unknown };
    }

    private static (MlpConfig Config, bool Folded) ReadMetadata(string path, IReadOnlyDictionary<string, string> meta)
    {
        ModelFormatException Fail(string message) => new($"'{path}' is not a valid {FormatName} model file: {message}.");

        if (!meta.TryGetValue("format", out var format))
            throw Fail("the metadata has no 'format' entry (a safetensors file from another tool?)");
        if (format != FormatName)
            throw Fail($"the metadata 'format' is '{SafeTensors.Show(format)}', but this version reads '{FormatName}'");
        foreach (var key in meta.Keys)
            if (key is not ("format" or "config" or "vocabulary" or "folded" or ChecksumKey or UnknownSymbolKey))
                throw Fail($"the metadata has an unexpected entry '{SafeTensors.Show(key)}'");

        if (!meta.TryGetValue("config", out var configText))
            throw Fail("the metadata has no 'config' entry");
        MlpConfig config;
        try { config = MlpConfigJson.Read(configText); }
        catch (FormatException ex) { throw new ModelFormatException($"'{path}' is not a valid {FormatName} model file: metadata 'config': {ex.Message}", ex); }

        bool folded = meta.TryGetValue("folded", out var foldedText) ? foldedText switch
        {
            "true" => true,
            "false" => false,
            _ => throw Fail($"the metadata 'folded' is '{SafeTensors.Show(foldedText)}', not 'true' or 'false'"),
        } : throw Fail("the metadata has no 'folded' entry");

        return (config, folded);
    }

    private static IReadOnlyList<string>? ReadVocabulary(string path, MlpConfig config, IReadOnlyDictionary<string, string> meta)
    {
        ModelFormatException Fail(string message) => new($"'{path}' is not a valid {FormatName} model file: {message}.");
        IReadOnlyList<string>? vocabulary = null;
        if (meta.TryGetValue("vocabulary", out var vocabularyText) && vocabularyText != "null")
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(vocabularyText);
            // Count before deserializing: a hostile list of many tiny strings costs far more memory than its text.
            if (CountArrayItems(utf8) is int count && count != config.VocabularySize)
                throw Fail($"the vocabulary holds {count} symbols but the config's vocabulary size is {config.VocabularySize}");
            try { vocabulary = JsonSerializer.Deserialize(utf8, VocabularyJson.Default.StringArray); }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException) // the latter: escapes that are not valid UTF-16
            {
                throw new ModelFormatException($"'{path}' is not a valid {FormatName} model file: the metadata 'vocabulary' is not a JSON array of strings ({ex.Message}).", ex);
            }
            if (vocabulary is null || vocabulary.Any(s => s is null))
                throw Fail("the metadata 'vocabulary' is not a JSON array of strings");
        }
        ModelValidation.CheckVocabulary(config, vocabulary, message => Fail(message));
        return vocabulary;
    }

    /// <summary>The items of a top-level JSON array, counted without allocating them; null when the text is not one array (the deserializer then says why).</summary>
    private static int? CountArrayItems(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 4 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) return null;
            int count = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                count++;
                reader.Skip(); // a nested array or object counts as one (wrong) item
            }
            return count;
        }
        catch (JsonException)
        {
            return null;
        }

    }

    /// <summary>
    /// The header's tensors against the layout: the same names, the same shapes, and stored back to back in name
    /// order as <see cref="Save"/> writes them. The order matters: the checksum covers the data bytes, so two
    /// same-sized tensors with swapped offsets would otherwise load swapped.
    /// </summary>
    private static void CheckTensors(IReadOnlyList<SafeTensorsEntry> entries, IReadOnlyList<TensorSpec> layout, bool folded, Func<string, ModelFormatException> fail)
    {
        string kind = folded ? "folded " : "";
        var byName = new Dictionary<string, SafeTensorsEntry>(entries.Count, StringComparer.Ordinal);
        foreach (var e in entries) byName[e.Name] = e;
        var missing = layout.Where(s => !byName.ContainsKey(s.Name)).ToList();
        if (missing.Count > 0)
            throw fail($"the {kind}layout needs tensor(s) {Listed(missing.Select(s => $"'{s.Name}' [{Dims(s.Shape)}]"))}, which the file lacks");
        var expectedNames = layout.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var unexpected = entries.Select(e => e.Name).Where(n => !expectedNames.Contains(n)).Order(StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0)
            throw fail($"tensor(s) {Listed(unexpected.Select(n => $"'{SafeTensors.Show(n)}'"))} are not part of the {kind}layout of this config");
        foreach (var spec in layout)
        {
            var shape = byName[spec.Name].Shape;
            if (!shape.SequenceEqual(spec.Shape))
                throw fail($"tensor '{spec.Name}' has shape [{Dims(shape)}] but the config needs [{Dims(spec.Shape)}]");
        }
        long offset = 0;
        foreach (var e in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            if (e.Begin != offset)
                throw fail($"tensor '{e.Name}' is stored at bytes [{e.Begin}, {e.End}) of the data, but {FormatName} stores tensors back to back in name order, which puts it at [{offset}, {offset + (e.End - e.Begin)})");
            offset = e.End;
        }
    }

    /// <summary>
    /// The checksum's input before the data: each metadata entry but the checksum, in ordinal key order, as the
    /// UTF-8 key and value, each preceded by its byte length (8 bytes, little-endian). The data section follows.
    /// </summary>
    private static void AppendMetadata(IncrementalHash hash, IReadOnlyDictionary<string, string> metadata)
    {
        Span<byte> length = stackalloc byte[8];
        foreach (var key in metadata.Keys.Where(k => k != ChecksumKey).Order(StringComparer.Ordinal))
            foreach (var text in (ReadOnlySpan<string>)[key, metadata[key]])
            {
                byte[] bytes = Encoding.UTF8.GetBytes(text);
                BinaryPrimitives.WriteInt64LittleEndian(length, bytes.Length);
                hash.AppendData(length);
                hash.AppendData(bytes);
            }
    }

    private static string Listed(IEnumerable<string> items)
    {
        const int MaxListed = 8; // a config with thousands of layers must not make a megabyte-long message
        var list = items.Take(MaxListed + 1).ToList();
        return list.Count <= MaxListed ? string.Join(", ", list) : $"{string.Join(", ", list.Take(MaxListed))} and more";
    }

    internal static string Dims(int[] shape) => string.Join(", ", shape);
}
