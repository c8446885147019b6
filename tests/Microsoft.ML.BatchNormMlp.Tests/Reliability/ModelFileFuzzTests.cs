using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Tests.Export;

namespace Microsoft.ML.BatchNormMlp.Tests.Reliability;

/// <summary>
/// Seeded fuzzing of the model-file loader. Valid files of every test architecture, folded and unfolded, are
/// mutated (truncations, bit flips, header lengths, JSON edits of shapes, offsets, dtypes, names, metadata, config
/// and vocabulary) and loaded. Every load must either return exactly the saved model or throw a
/// <see cref="ModelFormatException"/> with a one-line message naming the file; never another exception, never a
/// hang, never an allocation the file's size does not justify.
/// The iteration count is BNMLP_FUZZ_ITERATIONS (default 2,000 for CI; the full run uses 20,000).
/// </summary>
public class ModelFileFuzzTests
{
    private const int DefaultIterations = 2_000;
    private const ulong Seed = 20261121;
    private static readonly TimeSpan LoadTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Allocation allowed per load: a small multiple of the file size plus a constant for fixed costs (the JSON
    /// parsers' pooled buffers, exceptions). Denser JSON costs more per byte (a 23 KB config of 10,001 widths
    /// allocates about 340 KB before it is refused), hence the constant; nothing may grow with a size the file
    /// merely declares.
    /// </summary>
    internal static long AllocationBound(long fileLength) => 4 * fileLength + 384 * 1024;

    internal static int Iterations(int defaultCount) =>
        int.TryParse(Environment.GetEnvironmentVariable("BNMLP_FUZZ_ITERATIONS"), out int n) && n > 0 ? n : defaultCount;

    /// <summary>What a successful load must return: the saved model itself, or (after an edit that recomputed the checksum) any consistent model with the saved tensors.</summary>
    private enum Oracle { Exact, Consistent }

    private sealed record Mutation(string Kind, byte[] Bytes, Oracle Oracle);

    private sealed class Sample(string name, ModelState model, byte[] bytes)
    {
        public string Name { get; } = name;
        public ModelState Model { get; } = model;
        public byte[] Bytes { get; } = bytes;
        public int HeaderLength => (int)BinaryPrimitives.ReadUInt64LittleEndian(Bytes);
        public ReadOnlySpan<byte> Data => Bytes.AsSpan(8 + HeaderLength);
        public JsonObject Header() => JsonNode.Parse(Bytes.AsSpan(8, HeaderLength))!.AsObject();
    }

    private string _dir = null!;

    [SetUp] public void SetUp() => _dir = ExportTestModels.TempDirectory();
    [TearDown] public void TearDown() => Directory.Delete(_dir, recursive: true);

    private List<Sample> Samples()
    {
        var samples = new List<Sample>();
        foreach (string name in ExportTestModels.Names)
        {
            var model = ExportTestModels.Random(name, seed: 5);
            foreach (var m in new[] { model, BatchNormFolding.Fold(model) })
            {
                string path = Path.Combine(_dir, $"{name}-{m.Folded}.safetensors");
                ModelFile.Save(path, m);
                samples.Add(new Sample($"{name}{(m.Folded ? " folded" : "")}", m, File.ReadAllBytes(path)));
            }
        }
        return samples;
    }

    [Test]
    public void MutatedModelFiles_LoadExactlyOrFailWithAClearModelFormatException()
    {
        int iterations = Iterations(DefaultIterations);
        var samples = Samples();
        var rng = new Rng(Seed);
        var mutators = Mutators();
        var tally = new SortedDictionary<string, (int Loaded, int Refused)>(StringComparer.Ordinal);
        var failures = new List<string>();
        var messages = new SortedDictionary<string, string>(StringComparer.Ordinal);
        (long Allocated, long FileLength) closest = (0, 1); // the load that came closest to its allocation bound
        string path = Path.Combine(_dir, "mutated.safetensors");

        for (int i = 0; i < iterations; i++)
        {
            var sample = samples[rng.NextInt(samples.Count)];
            var (kindName, mutate) = mutators[i % mutators.Length];
            Mutation mutation;
            try { mutation = mutate(rng, sample); }
            catch (Exception e) { throw new InvalidOperationException($"mutator {kindName} failed on {sample.Name}", e); }
            File.WriteAllBytes(path, mutation.Bytes);

            var (loaded, error, allocated) = LoadWithTimeout(path, out bool finished);
            string where = $"#{i} {mutation.Kind} on {sample.Name}";
            if (!finished) { failures.Add($"{where}: no answer within {LoadTimeout.TotalSeconds} s (hang)"); break; }
            if (allocated - AllocationBound(mutation.Bytes.Length) > closest.Allocated - AllocationBound(closest.FileLength))
                closest = (allocated, mutation.Bytes.Length);
            if (allocated > AllocationBound(mutation.Bytes.Length))
                failures.Add($"{where}: allocated {allocated} bytes for a {mutation.Bytes.Length}-byte file");

            var (ok, refused) = tally.GetValueOrDefault(mutation.Kind);
            if (error is null)
            {
                tally[mutation.Kind] = (ok + 1, refused);
                string? mismatch = mutation.Oracle == Oracle.Exact ? Differences(sample.Model, loaded!) : Inconsistency(sample.Model, loaded!);
                if (mismatch is not null) failures.Add($"{where}: loaded, but {mismatch}");
            }
            else
            {
                tally[mutation.Kind] = (ok, refused + 1);
                if (error.GetType() != typeof(ModelFormatException))
                    failures.Add($"{where}: {error.GetType().Name}: {error.Message}\n{error.StackTrace}");
                else if (!error.Message.StartsWith($"'{path}' is not a valid ", StringComparison.Ordinal)
                    || error.Message.IndexOfAny(['\n', '\r']) >= 0 || error.Message.Length > 1000)
                    failures.Add($"{where}: unclear message ({error.Message.Length} chars): {error.Message}");
                else
                    messages.TryAdd(mutation.Kind, error.Message[(path.Length + 3)..]);
            }
            if (failures.Count >= 10) break;
        }

        TestContext.Out.WriteLine($"{iterations} mutations of {samples.Count} model files; closest to the allocation bound: " +
            $"{closest.Allocated} bytes for a {closest.FileLength}-byte file (bound 4 x file + 384 KiB = {AllocationBound(closest.FileLength)})");
        foreach (var (kind, (ok, refused)) in tally)
            TestContext.Out.WriteLine($"  {kind,-28} loaded {ok,6}  refused {refused,6}   e.g. {messages.GetValueOrDefault(kind, "-")}");
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
        Assert.That(tally.Values.Sum(v => v.Loaded + v.Refused), Is.EqualTo(iterations));
        // The mutations reach both outcomes: benign edits load, damage is refused.
        Assert.That(tally.Values.Sum(v => v.Loaded), Is.GreaterThan(0));
        Assert.That(tally.Values.Sum(v => v.Refused), Is.GreaterThan(iterations / 2));
    }

    /// <summary>Loads on a worker thread, so that a hang fails the test instead of stalling it, and measures that thread's allocations.</summary>
    private static (ModelState? Loaded, Exception? Error, long Allocated) LoadWithTimeout(string path, out bool finished)
    {
        var task = Task.Run(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var model = ModelFile.Load(path);
                return (model, (Exception?)null, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            catch (Exception e)
            {
                return ((ModelState?)null, e, GC.GetAllocatedBytesForCurrentThread() - before);
            }
        });
        finished = task.Wait(LoadTimeout);
        return finished ? task.Result : (null, null, 0);
    }

    private static string? Differences(ModelState expected, ModelState actual)
    {
        if (MlpConfigJson.Write(actual.Config) != MlpConfigJson.Write(expected.Config)) return "the config differs";
        if (actual.Folded != expected.Folded) return "the folded flag differs";
        if (!(actual.Vocabulary ?? []).SequenceEqual(expected.Vocabulary ?? []) || (actual.Vocabulary is null) != (expected.Vocabulary is null))
            return "the vocabulary differs";
        return TensorDifferences(expected, actual);
    }

    /// <summary>After a re-signed edit, a load may return another config, but only a consistent one, and only the saved tensors.</summary>
    private static string? Inconsistency(ModelState original, ModelState actual)
    {
        try { ModelValidation.Check(actual, problem => new InvalidOperationException(problem)); }
        catch (InvalidOperationException e) { return $"the model is inconsistent: {e.Message}"; }
        return TensorDifferences(original, actual);
    }

    private static string? TensorDifferences(ModelState expected, ModelState actual)
    {
        if (!actual.Tensors.Keys.Order().SequenceEqual(expected.Tensors.Keys.Order())) return "the tensor names differ";
        foreach (var (name, data) in expected.Tensors)
            if (!MemoryMarshal.AsBytes(actual.Tensors[name].AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(data.AsSpan())))
                return $"tensor '{name}' differs";
        return null;
    }

    // ---- mutations -------------------------------------------------------------------------------------------

    private static (string, Func<Rng, Sample, Mutation>)[] Mutators() =>
    [
        ("truncate", (rng, s) => new("truncate", s.Bytes[..rng.NextInt(s.Bytes.Length)], Oracle.Exact)),
        ("bit flip: length field", (rng, s) => FlipBits(rng, s.Bytes, 0, 8, "bit flip: length field")),
        ("bit flip: header", (rng, s) => FlipBits(rng, s.Bytes, 8, 8 + s.HeaderLength, "bit flip: header")),
        ("bit flip: data", (rng, s) => FlipBits(rng, s.Bytes, 8 + s.HeaderLength, s.Bytes.Length, "bit flip: data")),
        ("bit flip: anywhere", (rng, s) => FlipBits(rng, s.Bytes, 0, s.Bytes.Length, "bit flip: anywhere")),
        ("byte run: random", (rng, s) =>
        {
            var bytes = (byte[])s.Bytes.Clone();
            int at = rng.NextInt(bytes.Length), n = 1 + rng.NextInt(Math.Min(64, bytes.Length - at));
            for (int k = 0; k < n; k++) bytes[at + k] = (byte)rng.NextInt(256);
            return new("byte run: random", bytes, Oracle.Exact);
        }),
        ("header length: hostile", (rng, s) =>
        {
            ulong[] values = [0, 1, 7, (ulong)s.HeaderLength - 1, (ulong)s.HeaderLength + 1, (ulong)s.HeaderLength + 8,
                (ulong)s.Bytes.Length - 8, (ulong)s.Bytes.Length, int.MaxValue, (ulong)int.MaxValue + 1, long.MaxValue,
                ulong.MaxValue, 100 * 1024 * 1024 + 1, rng.NextUInt64()];
            var bytes = (byte[])s.Bytes.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, values[rng.NextInt(values.Length)]);
            return new("header length: hostile", bytes, Oracle.Exact);
        }),
        ("append bytes", (rng, s) => new("append bytes", [.. s.Bytes, .. RandomBytes(rng, 1 + rng.NextInt(16))], Oracle.Exact)),
        ("shape: hostile dimension", (rng, s) => EditTensor(rng, s, "shape: hostile dimension", (rng, entry, _) =>
        {
            var shape = entry["shape"]!.AsArray();
            if (shape.Count == 0 || rng.NextInt(4) == 0) { shape.Add(Hostile(rng)); return; }
            shape[rng.NextInt(shape.Count)] = Hostile(rng);
        })),
        ("shape: dimensions added/dropped", (rng, s) => EditTensor(rng, s, "shape: dimensions added/dropped", (rng, entry, _) =>
        {
            var shape = entry["shape"]!.AsArray();
            if (shape.Count > 0 && rng.NextInt(2) == 0) shape.RemoveAt(rng.NextInt(shape.Count));
            else { shape.Add(1); if (rng.NextInt(2) == 0) for (int k = 0; k < 9; k++) shape.Add(1); }
        })),
        ("offsets: hostile", (rng, s) => EditTensor(rng, s, "offsets: hostile", (rng, entry, _) =>
        {
            var offsets = entry["data_offsets"]!.AsArray();
            long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
            JsonNode?[] choices =
            [
                new JsonArray(-1, end), new JsonArray(end, begin), new JsonArray(begin, long.MaxValue), new JsonArray(begin, 1L << 40),
                new JsonArray("0", end), new JsonArray(begin, null), new JsonArray(begin), new JsonArray(begin, end, end),
                new JsonArray(begin + 4, end + 4), new JsonArray(begin - 4, end - 4), new JsonArray(1.5, end), "0-4", null,
                new JsonArray(begin, end + 4), new JsonArray(0, 0),
            ];
            entry["data_offsets"] = choices[rng.NextInt(choices.Length)]?.DeepClone();
        })),
        ("offsets: swapped", (rng, s) => EditHeader(rng, s, "offsets: swapped", (rng, header) =>
        {
            var entries = Tensors(header);
            // Prefer two tensors of the same size: their bytes tile the data exactly, so only the name order gives them away.
            var bySize = entries.GroupBy(e => Size(e.Value)).Where(g => g.Count() > 1).ToList();
            var pair = bySize.Count > 0 && rng.NextInt(4) > 0
                ? bySize[rng.NextInt(bySize.Count)].Take(2).ToArray()
                : [entries[rng.NextInt(entries.Count)], entries[rng.NextInt(entries.Count)]];
            var first = pair[0].Value!["data_offsets"]!.DeepClone();
            pair[0].Value!["data_offsets"] = pair[1].Value!["data_offsets"]!.DeepClone();
            pair[1].Value!["data_offsets"] = first;
        })),
        ("dtype: wrong", (rng, s) => EditTensor(rng, s, "dtype: wrong", (rng, entry, _) =>
        {
            JsonNode?[] dtypes = ["F16", "BF16", "F64", "I32", "I64", "U8", "BOOL", "f32", "", "F32 ", 32, null, new JsonArray("F32")];
            entry["dtype"] = dtypes[rng.NextInt(dtypes.Length)]?.DeepClone();
        })),
        ("tensor: removed", (rng, s) => EditHeader(rng, s, "tensor: removed", (rng, header) =>
            header.Remove(Tensors(header)[rng.NextInt(Tensors(header).Count)].Key))),
        ("tensor: renamed", (rng, s) => EditHeader(rng, s, "tensor: renamed", (rng, header) =>
        {
            var entry = Tensors(header)[rng.NextInt(Tensors(header).Count)];
            string[] names = [entry.Key + "x", entry.Key.ToUpperInvariant(), "hidden.99.linear.weight", "", "__metadata__x", new string('n', 100_000), "a\nb"];
            header.Remove(entry.Key);
            header[names[rng.NextInt(names.Length)]] = entry.Value!.DeepClone();
        })),
        ("tensor: extra field", (rng, s) => EditTensor(rng, s, "tensor: extra field", (rng, entry, _) =>
            entry[rng.NextInt(2) == 0 ? "dtype2" : "offsets"] = 1)),
        ("tensor: not an object", (rng, s) => EditHeader(rng, s, "tensor: not an object", (rng, header) =>
            header[Tensors(header)[rng.NextInt(Tensors(header).Count)].Key] = rng.NextInt(2) == 0 ? new JsonArray() : "F32")),
        ("name: duplicated", (rng, s) => DuplicateName(rng, s)),
        ("name: invalid escape", (rng, s) => InvalidEscape(rng, s)),
        ("metadata: edited", (rng, s) => EditHeader(rng, s, "metadata: edited", (rng, header) =>
        {
            var meta = header["__metadata__"]!.AsObject();
            switch (rng.NextInt(8))
            {
                case 0: meta.Remove(meta.ElementAt(rng.NextInt(meta.Count)).Key); break;
                case 1: meta["extra"] = "1"; break;
                case 2: meta["format"] = rng.NextInt(2) == 0 ? "bnmlp/2" : "safetensors"; break;
                case 3: meta["folded"] = rng.NextInt(2) == 0 ? "yes" : (meta["folded"]!.GetValue<string>() == "true" ? "false" : "true"); break;
                case 4: meta[meta.ElementAt(rng.NextInt(meta.Count)).Key] = rng.NextInt(2) == 0 ? 1 : new JsonArray(); break;
                case 5: meta["sha256"] = rng.NextInt(2) == 0 ? "" : new string('0', 64); break;
                case 6: header["__metadata__"] = rng.NextInt(2) == 0 ? new JsonArray() : "x"; break;
                default: meta["config"] = rng.NextInt(2) == 0 ? "" : "{" ; break;
            }
        }, resign: rng => rng.NextInt(2) == 0)),
        ("config: hostile value", (rng, s) => EditHeader(rng, s, "config: hostile value", (rng, header) =>
            EditConfig(header, config =>
            {
                string key = config.ElementAt(rng.NextInt(config.Count)).Key;
                config[key] = key == "hidden_widths" ? HostileWidths(rng) : Hostile(rng);
            }), resign: rng => rng.NextInt(4) > 0)),
        ("config: key removed/added", (rng, s) => EditHeader(rng, s, "config: key removed/added", (rng, header) =>
            EditConfig(header, config =>
            {
                if (rng.NextInt(2) == 0) config.Remove(config.ElementAt(rng.NextInt(config.Count)).Key);
                else config[rng.NextInt(2) == 0 ? "learning_rate" : "Context_Length"] = 3;
            }), resign: rng => rng.NextInt(2) == 0)),
        ("config: absurd size", (rng, s) => EditHeader(rng, s, "config: absurd size", (rng, header) =>
            EditConfig(header, config =>
            {
                switch (rng.NextInt(5))
                {
                    case 0: config["hidden_widths"] = new JsonArray([.. Enumerable.Range(0, 10_000).Select(_ => (JsonNode?)16_777_216)]); break;
                    case 1: config["hidden_widths"] = new JsonArray(1_000_000_000); break;
                    case 2: config["vocabulary_size"] = 16_777_216; config["embedding_width"] = 16_777_216; break;
                    case 3: config["output_width"] = 16_777_216; break;
                    default: config["hidden_widths"] = new JsonArray([.. Enumerable.Range(0, 10_001).Select(_ => (JsonNode?)1)]); break;
                }
            }), resign: _ => true)),
        ("vocabulary: edited", (rng, s) => EditVocabulary(rng, s)),
        ("dense JSON", (rng, s) => EditHeader(rng, s, "dense JSON", (rng, header) =>
        {
            // The most tokens (and strings) per byte that a header can hold: the parser's worst case per file byte.
            var meta = header["__metadata__"]!.AsObject();
            switch (rng.NextInt(5))
            {
                case 0:
                    var shape = Tensors(header)[rng.NextInt(Tensors(header).Count)].Value!["shape"]!.AsArray();
                    for (int k = 0; k < 20_000; k++) shape.Add(1);
                    break;
                case 1: meta["vocabulary"] = "[" + string.Join(",", Enumerable.Repeat("\"a\"", 25_000)) + "]"; break;
                case 2: meta["vocabulary"] = "[" + string.Join(",", Enumerable.Range(0, 25_000).Select(i => $"\"{char.ConvertFromUtf32(0x4E00 + i)}\"")) + "]"; break;
                case 3: for (int k = 0; k < 5_000; k++) meta[$"k{k}"] = ""; break;
                default: for (int k = 0; k < 5_000; k++) header[$"t{k}"] = new JsonObject(); break;
            }
        }, resign: rng => rng.NextInt(2) == 0)),
        ("benign: reformatted header", (rng, s) => EditHeader(rng, s, "benign: reformatted header", (rng, header) =>
        {
            // Reorder the entries: JSON object order carries no meaning, so the file must still load exactly.
            var all = header.ToList();
            header.Clear();
            foreach (var (key, value) in all.OrderBy(_ => rng.NextInt(1000))) header[key] = value?.DeepClone();
        }, resign: _ => false, padding: rng => 8 * (1 + rng.NextInt(3)))),
    ];

    private static Mutation FlipBits(Rng rng, byte[] original, int from, int to, string kind)
    {
        var bytes = (byte[])original.Clone();
        int flips = 1 + rng.NextInt(3);
        for (int k = 0; k < flips; k++) bytes[from + rng.NextInt(to - from)] ^= (byte)(1 << rng.NextInt(8));
        return new(kind, bytes, Oracle.Exact);
    }

    private static byte[] RandomBytes(Rng rng, int n)
    {
        var bytes = new byte[n];
        for (int k = 0; k < n; k++) bytes[k] = (byte)rng.NextInt(256);
        return bytes;
    }

    private static JsonNode? Hostile(Rng rng)
    {
        JsonNode?[] values =
        [
            -1, 0, 1, 3, 16_777_216, 16_777_217, 1_000_000_000, int.MaxValue, 2_147_483_648L, -2_147_483_649L, long.MaxValue,
            1e300, -1e300, 1.5, -0.0, 1e-45, 1e-5, "3", "", "NaN", "tanh", "relu", "pre_activation", null, true, false,
            new JsonArray(), new JsonObject(), new JsonArray(16),
        ];
        return values[rng.NextInt(values.Length)]?.DeepClone();
    }

    private static JsonNode? HostileWidths(Rng rng)
    {
        JsonNode?[] values =
        [
            new JsonArray(-5), new JsonArray(0), new JsonArray(1_000_000_000), new JsonArray(), new JsonArray(16_777_216, 16_777_216),
            new JsonArray(new JsonArray(16)), new JsonArray(16, "16"), new JsonArray(16, null), new JsonArray(1.5), 16, "16", null,
        ];
        return values[rng.NextInt(values.Length)]?.DeepClone();
    }

    private static List<KeyValuePair<string, JsonNode?>> Tensors(JsonObject header) =>
        header.Where(p => p.Key != "__metadata__" && p.Value is JsonObject).ToList();

    private static long Size(JsonNode? entry)
    {
        var offsets = entry?["data_offsets"] as JsonArray;
        return offsets is { Count: 2 } ? offsets[1]!.GetValue<long>() - offsets[0]!.GetValue<long>() : -1;
    }

    private static Mutation EditTensor(Rng rng, Sample s, string kind, Action<Rng, JsonObject, string> edit) =>
        EditHeader(rng, s, kind, (rng, header) =>
        {
            var entry = Tensors(header)[rng.NextInt(Tensors(header).Count)];
            edit(rng, entry.Value!.AsObject(), entry.Key);
        }, resign: rng => rng.NextInt(2) == 0);

    /// <summary>
    /// Edits the header as JSON and rebuilds the file around the unchanged data. With <paramref name="resign"/> the
    /// checksum is recomputed, as a deliberate editor would, so that the structural checks behind it are exercised;
    /// the load may then succeed only with a consistent model holding the saved tensors.
    /// </summary>
    private static Mutation EditHeader(Rng rng, Sample s, string kind, Action<Rng, JsonObject> edit,
        Func<Rng, bool>? resign = null, Func<Rng, int>? padding = null)
    {
        var header = s.Header();
        edit(rng, header);
        bool signed = resign?.Invoke(rng) ?? false;
        if (signed) Resign(header, s.Data);
        return new(signed ? kind + " (re-signed)" : kind, Assemble(Encoding.UTF8.GetBytes(header.ToJsonString()), s.Data, padding?.Invoke(rng) ?? 0),
            signed ? Oracle.Consistent : Oracle.Exact);
    }

    private static void EditConfig(JsonObject header, Action<JsonObject> edit)
    {
        var meta = header["__metadata__"]!.AsObject();
        var config = JsonNode.Parse(meta["config"]!.GetValue<string>())!.AsObject();
        edit(config);
        meta["config"] = config.ToJsonString();
    }

    private static Mutation EditVocabulary(Rng rng, Sample s)
    {
        var header = s.Header();
        var meta = header["__metadata__"]!.AsObject();
        string text;
        if (meta["vocabulary"] is null)
            text = rng.NextInt(2) == 0 ? "[\".\"]" : "null";
        else
        {
            var symbols = JsonNode.Parse(meta["vocabulary"]!.GetValue<string>())!.AsArray().Select(n => n!.GetValue<string>()).ToList();
            // Raw JSON text, so that escapes that do not make valid UTF-16 (a lone surrogate) reach the loader.
            var quoted = symbols.Select(v => $"\"{v}\"").ToList();
            int at = rng.NextInt(quoted.Count);
            string[] replacements = ["\"ab\"", "\"\"", "\"\\u0001\"", "\"\\ud800\"", "\"\\udc00a\"", $"\"{symbols[(at + 1) % symbols.Count]}\"", "null", "1", "[]", "\"\\n\""];
            switch (rng.NextInt(4))
            {
                case 0: quoted.RemoveAt(at); break;
                case 1: quoted.Add("\"z\""); break;
                default: quoted[at] = replacements[rng.NextInt(replacements.Length)]; break;
            }
            text = rng.NextInt(10) == 0 ? "{\"a\":1}" : $"[{string.Join(",", quoted)}]";
        }
        meta["vocabulary"] = text;
        bool signed = rng.NextInt(4) > 0;
        if (signed) Resign(header, s.Data);
        return new(signed ? "vocabulary: edited (re-signed)" : "vocabulary: edited", Assemble(Encoding.UTF8.GetBytes(header.ToJsonString()), s.Data, 0),
            signed ? Oracle.Consistent : Oracle.Exact);
    }

    /// <summary>A header naming one tensor twice (JsonObject cannot hold that, so it is spliced in as text).</summary>
    private static Mutation DuplicateName(Rng rng, Sample s)
    {
        var header = s.Header();
        var entry = Tensors(header)[rng.NextInt(Tensors(header).Count)];
        string json = header.ToJsonString();
        json = "{" + $"\"{entry.Key}\":{entry.Value!.ToJsonString()}," + json[1..];
        return new("name: duplicated", Assemble(Encoding.UTF8.GetBytes(json), s.Data, 0), Oracle.Exact);
    }

    /// <summary>A lone-surrogate escape in a tensor name, a metadata key or value: valid UTF-8 and valid JSON syntax, invalid Unicode.</summary>
    private static Mutation InvalidEscape(Rng rng, Sample s)
    {
        string json = s.Header().ToJsonString();
        string[] targets = ["\"output.weight\"", "\"format\"", "\"bnmlp/1\"", "\"__metadata__\"", "\"folded\""];
        string target = targets[rng.NextInt(targets.Length)];
        json = json.Replace(target, target[..^1] + (rng.NextInt(2) == 0 ? "\\ud800\"" : "\\udfff\\ud800\""));
        return new("name: invalid escape", Assemble(Encoding.UTF8.GetBytes(json), s.Data, 0), Oracle.Exact);
    }

    private static byte[] Assemble(byte[] json, ReadOnlySpan<byte> data, int extraPadding)
    {
        int padded = (json.Length + extraPadding + 7) / 8 * 8;
        var bytes = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)padded);
        json.CopyTo(bytes, 8);
        bytes.AsSpan(8 + json.Length, padded - json.Length).Fill((byte)' ');
        data.CopyTo(bytes.AsSpan(8 + padded));
        return bytes;
    }

    /// <summary>The checksum as docs/model-format.md defines it, computed independently of the library.</summary>
    private static void Resign(JsonObject header, ReadOnlySpan<byte> data)
    {
        if (header["__metadata__"] is not JsonObject meta) return;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[8];
        foreach (var (key, value) in meta.Where(p => p.Key != "sha256").OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (value is not JsonValue v || !v.TryGetValue(out string? text)) return; // not a string map: nothing to sign
            foreach (string part in new[] { key, text })
            {
                byte[] bytes = Encoding.UTF8.GetBytes(part);
                BinaryPrimitives.WriteInt64LittleEndian(length, bytes.Length);
                sha.AppendData(length);
                sha.AppendData(bytes);
            }
        }
        sha.AppendData(data);
        meta["sha256"] = Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
