using System.Runtime.InteropServices;
using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Export.Onnx;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Tests.Export;

namespace Microsoft.ML.BatchNormMlp.Tests.Reliability;

/// <summary>
/// Seeded mutations of in-memory model states, the inputs of ONNX export, saving and folding: missing, extra,
/// misshapen or non-finite tensors, out-of-range configs, bad vocabularies, a wrong folded flag. An invalid state is
/// refused with an <see cref="ArgumentException"/> (export, save) or <see cref="InvalidOperationException"/> (fold)
/// whose one-line message names the culprit; a valid one goes through. The count is BNMLP_FUZZ_ITERATIONS / 2
/// (1,000 in CI).
/// </summary>
public class ModelStateMutationTests
{
    private const ulong Seed = 99;

    /// <summary>A mutated state and the text its refusal must contain; null when the state is still valid.</summary>
    private sealed record Mutation(string Kind, ModelState Model, string? Culprit);

    private string _dir = null!;

    [SetUp] public void SetUp() => _dir = ExportTestModels.TempDirectory();
    [TearDown] public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void MutatedModelStates_AreExportedSavedAndFolded_OrRefusedNamingTheCulprit()
    {
        int iterations = ModelFileFuzzTests.Iterations(2_000) / 2;
        var bases = ExportTestModels.Names.Select(n => ExportTestModels.Random(n, seed: 3))
            .SelectMany(m => new[] { m, BatchNormFolding.Fold(m) }).ToList();
        var rng = new Rng(Seed);
        var tally = new SortedDictionary<string, (int Accepted, int Refused)>(StringComparer.Ordinal);
        var failures = new List<string>();
        string path = Path.Combine(_dir, "state.safetensors");

        for (int i = 0; i < iterations && failures.Count < 10; i++)
        {
            var original = bases[rng.NextInt(bases.Count)];
            var m = Mutate(rng, original);
            string where = $"#{i} {m.Kind} ({(original.Folded ? "folded " : "")}{original.Config.BlockStyle})";
            var (accepted, refused) = tally.GetValueOrDefault(m.Kind);

            string? problem = Check(() => OnnxExport.ToBytes(m.Model), typeof(ArgumentException), "Cannot export to ONNX: ", m.Culprit);
            if (problem is not null) failures.Add($"{where}: export {problem}");
            else if (m.Culprit is null && !SameTensors(m.Model, original) && OnnxExport.ToBytes(m.Model).SequenceEqual(OnnxExport.ToBytes(original)))
                failures.Add($"{where}: the export does not reflect the changed tensor");

            if (!m.Model.Folded)
            {
                problem = Check(() => BatchNormFolding.Fold(m.Model), typeof(InvalidOperationException), "Cannot fold: ", m.Culprit);
                if (problem is not null) failures.Add($"{where}: fold {problem}");
            }

            // Saving checks structure, not values: a non-finite weight or a negative variance is saved faithfully and reloads bit-identically.
            bool valuesOnly = m.Kind is "value: not finite" or "running_var: negative";
            problem = Check(() => ModelFile.Save(path, m.Model), typeof(ArgumentException), $"Cannot save '{path}': ", valuesOnly ? null : m.Culprit);
            if (problem is not null) failures.Add($"{where}: save {problem}");
            else if (m.Culprit is null || valuesOnly)
            {
                if (!SameTensors(ModelFile.Load(path), m.Model)) failures.Add($"{where}: save and load changed the tensors");
            }
            else if (Directory.EnumerateFiles(_dir).Any())
                failures.Add($"{where}: a refused save left {string.Join(", ", Directory.EnumerateFiles(_dir))}");
            foreach (string file in Directory.EnumerateFiles(_dir)) File.Delete(file);

            tally[m.Kind] = m.Culprit is null ? (accepted + 1, refused) : (accepted, refused + 1);
        }

        TestContext.Out.WriteLine($"{iterations} mutated model states (export, fold, save):");
        foreach (var (kind, (accepted, refused)) in tally)
            TestContext.Out.WriteLine($"  {kind,-28} valid {accepted,5}  refused {refused,5}");
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
        Assert.That(tally.Values.Sum(t => t.Accepted + t.Refused), Is.EqualTo(iterations));
    }

    /// <summary>Null when <paramref name="action"/> behaved: succeeded for a valid state, or threw exactly <paramref name="type"/> with a clear message naming the culprit.</summary>
    private static string? Check(Action action, Type type, string prefix, string? culprit)
    {
        try
        {
            action();
            return culprit is null ? null : $"accepted an invalid state (expected a refusal naming {culprit})";
        }
        catch (Exception e)
        {
            if (culprit is null) return $"refused a valid state: {e.GetType().Name}: {e.Message}";
            if (e.GetType() != type) return $"threw {e.GetType().Name}, not {type.Name}: {e.Message}\n{e.StackTrace}";
            string message = e.Message.Replace($" (Parameter '{(e as ArgumentException)?.ParamName}')", "");
            if (!message.StartsWith(prefix, StringComparison.Ordinal) || !message.Contains(culprit, StringComparison.Ordinal) || message.IndexOfAny(['\n', '\r']) >= 0)
                return $"gave the unclear message \"{e.Message}\" (expected \"{prefix}...{culprit}...\")";
            return null;
        }
    }

    private static bool SameTensors(ModelState a, ModelState b) =>
        a.Tensors.Count == b.Tensors.Count && a.Tensors.All(p => b.Tensors.TryGetValue(p.Key, out var other)
            && MemoryMarshal.AsBytes(p.Value.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(other.AsSpan())));

    private static Mutation Mutate(Rng rng, ModelState m)
    {
        var c = m.Config;
        var names = m.Tensors.Keys.Order(StringComparer.Ordinal).ToList();
        string name = names[rng.NextInt(names.Count)];
        Dictionary<string, float[]> Tensors() => m.Tensors.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        ModelState With(Action<Dictionary<string, float[]>> edit) { var t = Tensors(); edit(t); return m with { Tensors = t }; }
        float[] Copy(string key) => (float[])m.Tensors[key].Clone();

        switch (rng.NextInt(12))
        {
            case 0: return new("tensor: missing", With(t => t.Remove(name)), $"'{name}'");
            case 1: return new("tensor: extra", With(t => t["hidden.7.linear.weight"] = [1f]), "'hidden.7.linear.weight'");
            case 2:
            {
                int delta = rng.NextInt(2) == 0 ? -1 : 1;
                return new("tensor: wrong length", With(t => t[name] = new float[Math.Max(0, m.Tensors[name].Length + delta)]), $"'{name}'");
            }
            case 3: return new("tensor: null", With(t => t[name] = null!), $"'{name}'");
            case 4:
            {
                var data = Copy(name);
                int at = rng.NextInt(data.Length);
                data[at] = new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity }[rng.NextInt(3)];
                return new("value: not finite", With(t => t[name] = data), $"tensor '{name}' holds {data[at]} at index {at}");
            }
            case 5:
            {
                var vars = names.Where(n => n.EndsWith(".running_var", StringComparison.Ordinal)).ToList();
                if (vars.Count == 0) goto default;
                string v = vars[rng.NextInt(vars.Count)];
                var data = Copy(v);
                int at = rng.NextInt(data.Length);
                data[at] = -1e-3f - rng.NextFloat();
                return new("running_var: negative", With(t => t[v] = data), $"tensor '{v}' holds the negative variance");
            }
            case 6:
            {
                (MlpConfig Config, string Culprit)[] configs =
                [
                    (c with { HiddenWidths = [.. c.HiddenWidths, -5] }, "'hidden_widths' entry"),
                    (c with { HiddenWidths = [0] }, "'hidden_widths' entry 0 is 0"),
                    (c with { HiddenWidths = [1_000_000_000] }, "'hidden_widths' entry 0 is 1000000000"),
                    (c with { HiddenWidths = null! }, "'hidden_widths'"),
                    (c with { OutputWidth = 0 }, "'output_width' is 0"),
                    (c with { EmbeddingWidth = -1 }, "'embedding_width' is -1"),
                    (c with { ContextLength = 1 << 25 }, "'context_length' is 33554432"),
                    (c with { DenseInputWidth = -40 }, "'dense_input_width' is -40"),
                    (c with { BatchNormEpsilon = float.NaN }, "'batch_norm_epsilon' is NaN"),
                    (c with { BatchNormEpsilon = 0f }, "'batch_norm_epsilon' is 0"),
                    (c with { BatchNormMomentum = 2f }, "'batch_norm_momentum' is 2"),
                    (c with { Activation = (Activation)7 }, "'activation' is 7"),
                    (c with { BlockStyle = (BlockStyle)9 }, "'block_style' is 9"),
                    (c with { BlockStyle = BlockStyle.PreActivation, HiddenWidths = [] }, "a pre-activation network needs at least one hidden width"),
                ];
                var (config, culprit) = configs[rng.NextInt(configs.Length)];
                return new("config: out of range", m with { Config = config }, culprit);
            }
            case 7:
            {
                if (c.IsDense) return new("vocabulary: edited", m with { Vocabulary = ["."] }, "a dense-input model has no vocabulary");
                var symbols = m.Vocabulary!.ToList();
                int at = rng.NextInt(symbols.Count);
                switch (rng.NextInt(6))
                {
                    case 0: return new("vocabulary: edited", m with { Vocabulary = null }, "needs its vocabulary");
                    case 1: symbols.RemoveAt(at); return new("vocabulary: edited", m with { Vocabulary = symbols }, $"the vocabulary holds {symbols.Count} symbols");
                    case 2: symbols[at] = symbols[(at + 1) % symbols.Count]; return new("vocabulary: edited", m with { Vocabulary = symbols }, "the vocabulary repeats the symbol");
                    default:
                        string[] bad = ["ab", "", "\ud800", "\u0001", "\n", "e\u0301"];
                        symbols[at] = bad[rng.NextInt(bad.Length)];
                        return new("vocabulary: edited", m with { Vocabulary = symbols }, $"the vocabulary's symbol {at} is");
                }
            }
            case 8: return new("folded flag: flipped", m with { Folded = !m.Folded }, "tensor");
            case 9:
            {
                // A valid architecture that is not this model's: its layout disagrees with the tensors.
                var config = c with { HiddenWidths = [.. c.HiddenWidths.Select(w => w + 1)] };
                return new("config: another network", m with { Config = config }, "tensor '");
            }
            default:
            {
                var data = Copy(name);
                if (data.Length == 0) return new("benign: value changed", m, null);
                data[rng.NextInt(data.Length)] += 0.25f;
                return new("benign: value changed", With(t => t[name] = data), null);
            }
        }
    }
}
