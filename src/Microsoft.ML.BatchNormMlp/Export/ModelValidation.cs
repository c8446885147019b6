using System.Text;
using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Export;

/// <summary>
/// Whether an in-memory <see cref="ModelState"/> describes a network that can be saved, folded, run or exported:
/// a valid config, a vocabulary that matches it, exactly the layout's tensors, finite values and non-negative
/// running variances. The loader checks files itself (<see cref="ModelFile.Load"/>); this guards the other doors,
/// since a state can also be built in code.
/// </summary>
internal static class ModelValidation
{
    /// <summary>Throws <paramref name="fail"/>(problem) for the first problem found, naming the key, symbol or tensor.</summary>
    public static void Check(ModelState model, Func<string, Exception> fail)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (MlpConfigJson.Problem(model.Config) is string problem)
            throw fail($"the config is invalid: {problem}");
        CheckVocabulary(model.Config, model.Vocabulary, fail);
        var layout = model.Layout;
        string kind = model.Folded ? "folded " : "";
        foreach (var spec in layout)
        {
            if (!model.Tensors.TryGetValue(spec.Name, out var data) || data is null)
                throw fail($"tensor '{spec.Name}' is missing{(spec.Role == TensorRole.Buffer ? " (no running statistics: was the model trained?)" : "")}; the {kind}layout needs it as [{ModelFile.Dims(spec.Shape)}]");
            long needed = spec.Shape.Aggregate(1L, (a, b) => a * b);
            if (data.Length != needed)
                throw fail($"tensor '{spec.Name}' holds {data.Length} floats but its shape [{ModelFile.Dims(spec.Shape)}] needs {needed}");
            int bad = Array.FindIndex(data, v => !float.IsFinite(v));
            if (bad >= 0)
                throw fail($"tensor '{spec.Name}' holds {data[bad]} at index {bad}; every value must be finite (did training diverge?)");
            if (spec.Name.EndsWith(".running_var", StringComparison.Ordinal) && Array.FindIndex(data, v => v < 0) is int negative and >= 0)
                throw fail($"tensor '{spec.Name}' holds the negative variance {data[negative]} at index {negative}");
        }
        var names = layout.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var extra = model.Tensors.Keys.Where(n => !names.Contains(n)).Order(StringComparer.Ordinal).ToList();
        if (extra.Count > 0)
            throw fail($"tensor(s) {string.Join(", ", extra.Take(8).Select(n => $"'{SafeTensors.Show(n)}'"))} are not part of the {kind}layout of this config");
    }

    /// <summary>
    /// The vocabulary against the config: none for a dense model; otherwise exactly VocabularySize distinct
    /// symbols, each one printable Unicode scalar value (what <see cref="Vocabulary.FromSymbols"/> accepts).
    /// </summary>
    public static void CheckVocabulary(MlpConfig config, IReadOnlyList<string>? vocabulary, Func<string, Exception> fail)
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
        {
            string symbol = vocabulary[i];
            if (symbol is null
                || Rune.DecodeFromUtf16(symbol, out Rune rune, out int consumed) != System.Buffers.OperationStatus.Done
                || consumed != symbol.Length || Rune.IsControl(rune))
                throw fail($"the vocabulary's symbol {i} is \"{SafeTensors.Show(symbol ?? "null")}\", not exactly one printable Unicode character");
            if (!seen.Add(symbol))
                throw fail($"the vocabulary repeats the symbol '{symbol}' (id {i})");
        }
    }
}
