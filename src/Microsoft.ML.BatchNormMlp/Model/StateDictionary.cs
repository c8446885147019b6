using Microsoft.ML.BatchNormMlp.Layers;

namespace Microsoft.ML.BatchNormMlp.Model;

/// <summary>One named tensor's values, detached from any network (a copy).</summary>
internal sealed record TensorValue(string Name, int[] Shape, float[] Data);

/// <summary>
/// A network's tensors by PyTorch-style name: <see cref="Get"/> copies them out in <see cref="TensorLayout"/> order,
/// <see cref="Load"/> copies them in strictly (every expected name present with its shape, nothing else),
/// reporting every problem by name before changing anything.
/// </summary>
internal static class StateDictionary
{
    public static IReadOnlyList<TensorValue> Get(MlpNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var list = new List<TensorValue>(network.Tensors.Count);
        foreach (var t in network.Tensors) list.Add(new(t.Name, (int[])t.Shape.Clone(), (float[])t.Data.Clone()));
        return list;
    }

    public static void Load(MlpNetwork network, IEnumerable<TensorValue> values)
    {
        ArgumentNullException.ThrowIfNull(network); ArgumentNullException.ThrowIfNull(values);
        var byName = new Dictionary<string, TensorValue>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var v in values)
        {
            if (!byName.TryAdd(v.Name, v)) problems.Add($"tensor '{v.Name}' is given twice");
        }
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in network.Tensors)
        {
            expected.Add(t.Name);
            if (!byName.TryGetValue(t.Name, out var v)) { problems.Add($"missing tensor '{t.Name}' {t.ShapeText}"); continue; }
            if (!v.Shape.AsSpan().SequenceEqual(t.Shape))
                problems.Add($"tensor '{t.Name}' has shape [{string.Join(", ", v.Shape)}] but the network expects {t.ShapeText}");
            else if (v.Data.Length != t.Data.Length)
                problems.Add($"tensor '{t.Name}' holds {v.Data.Length} values but its shape {t.ShapeText} needs {t.Data.Length}");
            else
            {
                int bad = IndexOfNonFinite(v.Data);
                if (bad >= 0) problems.Add($"tensor '{t.Name}' holds {v.Data[bad]} at flat index {bad}");
            }
        }
        foreach (var name in byName.Keys)
            if (!expected.Contains(name)) problems.Add($"unexpected tensor '{name}'");
        if (problems.Count > 0)
            throw new InvalidDataException("Cannot load the state dictionary: " + string.Join("; ", problems) + ".");
        foreach (var t in network.Tensors) byName[t.Name].Data.CopyTo(t.Data, 0);
    }

    private static int IndexOfNonFinite(float[] data)
    {
        for (int i = 0; i < data.Length; i++) if (!float.IsFinite(data[i])) return i;
        return -1;
    }

    /// <summary>The tensor called <paramref name="name"/>, or an error naming it.</summary>
    public static NamedTensor Find(MlpNetwork network, string name)
    {
        foreach (var t in network.Tensors) if (t.Name == name) return t;
        throw new KeyNotFoundException($"The network has no tensor '{name}'.");
    }
}
