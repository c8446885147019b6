using Microsoft.ML.BatchNormMlp.IO;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Microsoft.ML.BatchNormMlp.Export;

/// <summary>One float32 tensor of a safetensors file: its shape and row-major data.</summary>
internal sealed record NamedTensor(int[] Shape, float[] Data);

/// <summary>The contents of a safetensors file: float32 tensors by name and the string metadata map.</summary>
internal sealed record SafeTensorsContent(IReadOnlyDictionary<string, NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata);

/// <summary>One tensor as the header declares it: shape and byte range within the data section.</summary>
internal sealed record SafeTensorsEntry(string Name, int[] Shape, int ElementCount, long Begin, long End);

/// <summary>A checked header: entries tile the data section exactly; nothing has been allocated for the data yet.</summary>
internal sealed record SafeTensorsHeader(IReadOnlyList<SafeTensorsEntry> Entries, IReadOnlyDictionary<string, string> Metadata, long DataLength);

/// <summary>
/// Reads and writes the safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length, a UTF-8 JSON header <c>{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}</c>
/// whose offsets are relative to the end of the header, then the raw little-endian tensor bytes.
/// Only F32 tensors are written or accepted. The reader trusts nothing: every length is checked against the
/// file size before anything is allocated, and every fault is a <see cref="ModelFormatException"/> naming the
/// file and the tensor.
/// </summary>
internal static class SafeTensors
{
    private const string MetadataKey = "__metadata__";
    private const int MaxHeaderBytes = 100 * 1024 * 1024; // the reference implementation's limit
    private const int MaxMetadataEntries = 1024; // real files hold a handful; thousands would only cost memory

    /// <summary>Writes tensors (sorted by name, so the bytes depend only on the contents) atomically.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToArray();
        byte[] header = BuildHeader(names, tensors, metadata);

        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var name in names)
                WriteFloats(stream, tensors[name].Data);
        });
    }

    /// <summary>Reads a file written by any safetensors writer, provided that every tensor is F32.</summary>
    /// <param name="path">The file.</param>
    /// <param name="checkHeader">
    /// Called with the checked header before any tensor is allocated, so that a caller that knows what the file must
    /// hold (the model file) refuses a wrong one before it costs memory; it throws to refuse.
    /// </param>
    /// <param name="dataHash">When given, receives the whole data section, in file order, as it is read.</param>
    public static SafeTensorsContent Read(string path, Action<SafeTensorsHeader>? checkHeader = null, IncrementalHash? dataHash = null)
    {
        // No FileStream buffer: the header and each tensor are read in one call each, straight into their arrays.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw Fail(path, $"the file holds {fileLength} bytes, fewer than the 8-byte header length (truncated?)");

        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength == 0 || headerLength > (ulong)(fileLength - 8))
            throw Fail(path, $"the header length {headerLength} does not fit in the {fileLength - 8} bytes after the length field (truncated or not a safetensors file)");
        if (headerLength > MaxHeaderBytes)
            throw Fail(path, $"the header length {headerLength} exceeds the limit of {MaxHeaderBytes} bytes");

        var header = new byte[(int)headerLength];
        stream.ReadExactly(header);
        long dataLength = fileLength - 8 - (long)headerLength;
        List<SafeTensorsEntry> entries;
        Dictionary<string, string> metadata;
        try
        {
            entries = ParseHeader(path, header, dataLength, out metadata);
        }
        catch (InvalidOperationException ex)
        {
            // JsonElement.GetString and friends throw this for escapes that do not make valid UTF-16 (a lone "\ud800").
            throw Fail(path, $"the header holds a string that is not valid Unicode ({ex.Message})", ex);
        }
        checkHeader?.Invoke(new SafeTensorsHeader(entries, metadata, dataLength));

        var tensors = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (var e in entries.OrderBy(e => e.Begin)) // tiled exactly: this reads the data section front to back
        {
            var data = new float[e.ElementCount];
            stream.Seek(8 + (long)headerLength + e.Begin, SeekOrigin.Begin);
            ReadFloats(stream, data);
            dataHash?.AppendData(MemoryMarshal.AsBytes(data.AsSpan())); // little-endian hosts only, like the rest of the library
            tensors.Add(e.Name, new NamedTensor(e.Shape, data));
        }
        return new SafeTensorsContent(tensors, metadata);
    }

    private static List<SafeTensorsEntry> ParseHeader(string path, byte[] header, long dataLength, out Dictionary<string, string> metadata)
    {
        // JsonDocument defers UTF-8 validation of strings until they are read; check it all here, up front.
        if (!Utf8.IsValid(header))
            throw Fail(path, "the header is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            throw Fail(path, $"the header is not valid JSON ({ex.Message})", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Fail(path, $"the header is a JSON {root.ValueKind}, not an object");

            metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<SafeTensorsEntry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                string name = property.Name; // each call decodes a new string, and a hostile name can be long
                if (!seen.Add(name))
                    throw Fail(path, $"the header names '{Show(name)}' twice");
                if (name == MetadataKey)
                    ReadMetadata(path, property.Value, metadata);
                else
                    entries.Add(ReadEntry(path, name, property.Value, dataLength));
            }

            // The data section must be tiled exactly: no gaps, no overlaps, nothing unaccounted for.
            long expected = 0;
            foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
            {
                if (e.Begin < expected)
                    throw Fail(path, $"tensor '{Show(e.Name)}' has data_offsets [{e.Begin}, {e.End}] overlapping the previous tensor, which ends at {expected}");
                if (e.Begin > expected)
                    throw Fail(path, $"tensor '{Show(e.Name)}' has data_offsets [{e.Begin}, {e.End}] leaving a gap after byte {expected}");
                expected = e.End;
            }
            if (expected != dataLength)
                throw Fail(path, $"the tensors cover {expected} bytes but the data section holds {dataLength} (truncated or trailing bytes)");
            return entries;
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Fail(path, $"'{MetadataKey}' is a JSON {value.ValueKind}, not an object of strings");
        if (value.GetPropertyCount() > MaxMetadataEntries)
            throw Fail(path, $"'{MetadataKey}' has {value.GetPropertyCount()} entries, more than the {MaxMetadataEntries} this reader accepts");
        foreach (var item in value.EnumerateObject())
        {
            string key = item.Name;
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Fail(path, $"metadata entry '{Show(key)}' is a JSON {item.Value.ValueKind}, not a string");
            if (!metadata.TryAdd(key, item.Value.GetString()!))
                throw Fail(path, $"metadata entry '{Show(key)}' appears twice");
        }
    }

    private static SafeTensorsEntry ReadEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Fail(path, $"tensor '{Show(name)}' is described by a JSON {value.ValueKind}, not an object");

        string? dtype = null;
        JsonElement? shape = null, offsets = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when dtype is null && field.Value.ValueKind == JsonValueKind.String: dtype = field.Value.GetString(); break;
                case "shape" when shape is null: shape = field.Value; break;
                case "data_offsets" when offsets is null: offsets = field.Value; break;
                default: throw Fail(path, $"tensor '{Show(name)}' has an unexpected, repeated or mistyped field '{Show(field.Name)}'");
            }
        }
        if (dtype is null || shape is null || offsets is null)
            throw Fail(path, $"tensor '{Show(name)}' lacks one of 'dtype', 'shape' and 'data_offsets'");
        if (dtype != "F32")
            throw Fail(path, $"tensor '{Show(name)}' has dtype '{Show(dtype)}'; only F32 is supported");

        if (shape.Value.ValueKind != JsonValueKind.Array || shape.Value.GetArrayLength() > 8)
            throw Fail(path, $"tensor '{Show(name)}' has a shape that is not an array of at most 8 dimensions");
        var dims = new int[shape.Value.GetArrayLength()];
        long count = 1;
        int d = 0;
        foreach (var dim in shape.Value.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt32(out int n) || n < 0)
                throw Fail(path, $"tensor '{Show(name)}' has dimension {d} = {Show(dim.GetRawText())}, not a non-negative 32-bit integer");
            dims[d++] = n;
            count *= n; // at most 8 dims below 2^31, checked below before it can overflow
            if (count > int.MaxValue)
                throw Fail(path, $"tensor '{Show(name)}' has shape [{string.Join(", ", dims[..d])}...] with more than {int.MaxValue} elements");
        }

        if (offsets.Value.ValueKind != JsonValueKind.Array || offsets.Value.GetArrayLength() != 2)
            throw Fail(path, $"tensor '{Show(name)}' has data_offsets that are not a [begin, end] pair");
        var pair = offsets.Value.EnumerateArray().ToArray();
        // TryGetInt64 throws on a non-number, so check the kind first: ["0", 4] is a format error, not a crash.
        if (pair[0].ValueKind != JsonValueKind.Number || pair[1].ValueKind != JsonValueKind.Number
            || !pair[0].TryGetInt64(out long begin) || !pair[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw Fail(path, $"tensor '{Show(name)}' has data_offsets {Show(offsets.Value.GetRawText())}, not 0 <= begin <= end");
        if (end > dataLength)
            throw Fail(path, $"tensor '{Show(name)}' has data_offsets [{begin}, {end}] beyond the {dataLength}-byte data section (truncated?)");
        if (end - begin != count * sizeof(float))
            throw Fail(path, $"tensor '{Show(name)}' has shape [{string.Join(", ", dims)}] ({count} floats, {count * sizeof(float)} bytes) but data_offsets [{begin}, {end}] span {end - begin} bytes");
        return new SafeTensorsEntry(name, dims, (int)count, begin, end);
    }

    private static byte[] BuildHeader(string[] names, IReadOnlyDictionary<string, NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var key in metadata.Keys.Order(StringComparer.Ordinal))
                    json.WriteString(key, metadata[key]);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var name in names)
            {
                if (name == MetadataKey)
                    throw new ArgumentException($"'{MetadataKey}' is reserved and cannot name a tensor.", nameof(tensors));
                var t = tensors[name];
                long count = t.Shape.Aggregate(1L, (a, b) => a * b);
                if (count != t.Data.Length)
                    throw new ArgumentException($"Tensor '{name}' has shape [{string.Join(", ", t.Shape)}] but holds {t.Data.Length} floats.", nameof(tensors));
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int dim in t.Shape) json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + count * sizeof(float));
                json.WriteEndArray();
                json.WriteEndObject();
                offset += count * sizeof(float);
            }
            json.WriteEndObject();
        }
        // Pad with spaces (valid JSON whitespace) so the data starts 8-byte aligned, as the reference writer does.
        while (buffer.Length % 8 != 0) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static void WriteFloats(Stream stream, float[] data)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            return;
        }
        var bytes = new byte[sizeof(float)];
        foreach (float f in data)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes, f);
            stream.Write(bytes);
        }
    }

    private static void ReadFloats(Stream stream, float[] data)
    {
        var bytes = MemoryMarshal.AsBytes(data.AsSpan());
        stream.ReadExactly(bytes);
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < data.Length; i++)
                data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * sizeof(float), sizeof(float)));
    }

    /// <summary>
    /// Text from the file as an error message quotes it: control characters escaped (the message stays one line) and
    /// cut to a readable length (a hostile file may hold a megabyte-long name).
    /// </summary>
    internal static string Show(string text)
    {
        const int MaxShown = 64;
        var shown = new StringBuilder(Math.Min(text.Length, MaxShown) + 16);
        foreach (char ch in text.Length <= MaxShown ? text : text[..MaxShown])
            if (char.IsControl(ch)) shown.Append($"\\u{(int)ch:X4}");
            else shown.Append(ch);
        if (text.Length > MaxShown) shown.Append($"... ({text.Length} characters)");
        return shown.ToString();
    }

    private static ModelFormatException Fail(string path, string message, Exception? inner = null)
    {
        var text = $"'{path}' is not a valid safetensors file: {message}.";
        return inner is null ? new ModelFormatException(text) : new ModelFormatException(text, inner);
    }
}
