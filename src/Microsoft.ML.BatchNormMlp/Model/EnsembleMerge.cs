namespace Microsoft.ML.BatchNormMlp.Model;

/// <summary>
/// Puts K networks of one architecture (their activations may differ) side by side as a single network of the same
/// kind whose logits are the mean of theirs: an ensemble that is one ordinary model (one file; evaluated, folded, exported and loaded by the code
/// every model goes through). Member k owns the k-th slice of every layer: the k-th E columns of each context
/// position's embedding, the k-th block of every hidden width; every hidden Linear is block-diagonal (zeros between
/// members), so no member reads another's features, and BatchNorm, the activation and the residual add work feature
/// by feature, so each block computes exactly what its member computed; members of different activations make a
/// network of <see cref="MlpConfig.ActivationGroups"/>, each member's block keeping its own. The output Linear reads all blocks with
/// each member's weights divided by K and averages the biases: logits = (1/K)·Σ logits_k. Averaging logits is the
/// geometric mean of the members' probabilities, renormalized (a product of experts), not the arithmetic mean.
/// <para>
/// The cost: a merged hidden layer of K·w features multiplies K·w by K·w where the members multiply w by w, so
/// scoring the merged network costs K times what scoring the K members apart would (K² one member's). The zeros
/// stay zeros only while the merged network is not trained further.
/// </para>
/// </summary>
internal static class EnsembleMerge
{
    /// <summary>The merged architecture of <paramref name="members"/> copies of <paramref name="member"/>.</summary>
    public static MlpConfig Config(MlpConfig member, int members)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 1);
        return Config(Enumerable.Repeat(member, members).ToArray());
    }

    /// <summary>
    /// The merged architecture: every width (embedding or hidden) times the member count, and the members'
    /// activation groups one after another (none when every member has the same single activation).
    /// </summary>
    /// <exception cref="ArgumentException">The members differ in anything but their activations (or in how many groups they have), or cannot be merged.</exception>
    public static MlpConfig Config(IReadOnlyList<MlpConfig> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("Merging needs at least one network.", nameof(members));
        var member = members[0];
        if (member.OutputBatchNorm)
            throw new ArgumentException("An output BatchNorm normalizes each member's logits before they would be averaged; networks with one cannot be merged.", nameof(members));
        if (member.HiddenWidths.Count == 0)
            throw new ArgumentException("Networks without hidden layers are linear models: average their weights instead of merging them.", nameof(members));
        for (int m = 1; m < members.Count; m++)
            if (!Compatible(member, members[m]))
                throw new ArgumentException($"Member {m} has another architecture than member 0; only networks that differ at most in their activations (with as many activation groups) merge.", nameof(members));
        var activations = members.SelectMany(c => c.EffectiveActivations).ToArray();
        int k = members.Count;
        return member with
        {
            EmbeddingWidth = member.IsDense ? member.EmbeddingWidth : member.EmbeddingWidth * k,
            HiddenWidths = member.HiddenWidths.Select(w => w * k).ToArray(),
            Activation = activations[0],
            ActivationGroups = activations.All(a => a == activations[0]) ? null : activations,
        };
    }

    /// <summary>
    /// Whether <paramref name="b"/> merges with <paramref name="a"/>: the same architecture but for the activations,
    /// and as many activation groups (a block of another shape, or groups of another width, would not line up).
    /// </summary>
    public static bool Compatible(MlpConfig a, MlpConfig b) =>
        (b with { Activation = a.Activation, ActivationGroups = a.ActivationGroups }).SameArchitecture(a)
        && a.EffectiveActivations.Count == b.EffectiveActivations.Count;

    /// <summary>
    /// Merges the members' state dictionaries (unfolded, by <see cref="TensorLayout.Expected"/> name) into the state
    /// dictionary of a network of <see cref="Config(IReadOnlyList{MlpConfig})"/>; the tensors' shapes do not depend on
    /// the activations, so one member's config describes them all.
    /// </summary>
    public static Dictionary<string, float[]> Merge(MlpConfig member, IReadOnlyList<IReadOnlyDictionary<string, float[]>> states)
    {
        ArgumentNullException.ThrowIfNull(member); ArgumentNullException.ThrowIfNull(states);
        int k = states.Count;
        var merged = Config(member, k);
        foreach (var spec in TensorLayout.Expected(member))
            for (int m = 0; m < k; m++)
                if (!states[m].TryGetValue(spec.Name, out var data) || data.Length != spec.ElementCount)
                    throw new ArgumentException($"Member {m} has no tensor '{spec.Name}' of {spec.ElementCount} values: members must share the architecture of the first.", nameof(states));

        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var spec in TensorLayout.Expected(merged))
            result[spec.Name] = new float[spec.ElementCount];

        if (!member.IsDense)
        {
            // [V, E] each -> [V, K·E]: member m's vector in columns m·E .. m·E+E-1.
            int v = member.VocabularySize, e = member.EmbeddingWidth;
            var to = result["embedding.weight"];
            for (int m = 0; m < k; m++)
            {
                var from = states[m]["embedding.weight"];
                for (int r = 0; r < v; r++) Array.Copy(from, r * e, to, r * k * e + m * e, e);
            }
        }

        // Each layer's input: how member m's input features map into the merged input. The first layer of a character
        // network reads [position][embedding] (position p, member m's column c at p·K·E + m·E + c); of a dense one,
        // the shared input row; later layers the merged stream, member m's block of w.
        int input = member.InputWidth;
        for (int i = 0; i < member.HiddenWidths.Count; i++)
        {
            int o = member.HiddenWidths[i];
            var to = result[$"hidden.{i}.linear.weight"];         // [K·o, mergedIn]
            int mergedIn = i == 0 ? merged.InputWidth : member.HiddenWidths[i - 1] * k;
            for (int m = 0; m < k; m++)
            {
                var from = states[m][$"hidden.{i}.linear.weight"]; // [o, input]
                for (int r = 0; r < o; r++)
                    for (int c = 0; c < input; c++)
                        to[(m * o + r) * mergedIn + InputColumn(member, i, m, k, c)] = from[r * input + c];
                if (member.HiddenBias) Array.Copy(states[m][$"hidden.{i}.linear.bias"], 0, result[$"hidden.{i}.linear.bias"], m * o, o);
            }
            bool stem = member.BlockStyle == BlockStyle.PreActivation && i == 0;
            if (member.HiddenBatchNorm && !stem)
            {
                // Per feature: each member's block of the width the norm sits on (the Linear's output, or pre-activation its input).
                int width = member.BlockStyle == BlockStyle.PreActivation ? input : o;
                foreach (string part in new[] { "weight", "bias", "running_mean", "running_var" })
                    for (int m = 0; m < k; m++)
                        Array.Copy(states[m][$"hidden.{i}.norm.{part}"], 0, result[$"hidden.{i}.norm.{part}"], m * width, width);
            }
            input = o;
        }

        {
            int outputs = member.OutputWidth;
            var to = result["output.weight"];                         // [outputs, K·w]
            for (int m = 0; m < k; m++)
            {
                var from = states[m]["output.weight"];                // [outputs, w]
                for (int r = 0; r < outputs; r++)
                    for (int c = 0; c < input; c++)
                        to[r * input * k + m * input + c] = from[r * input + c] / k;
            }
            if (member.OutputBias)
            {
                var bias = result["output.bias"];
                for (int r = 0; r < outputs; r++)
                {
                    double sum = 0;   // in double, then rounded once: the mean does not depend on the members' order
                    for (int m = 0; m < k; m++) sum += states[m]["output.bias"][r];
                    bias[r] = (float)(sum / k);
                }
            }
        }
        return result;
    }

    /// <summary>The merged network of <paramref name="members"/> (of one architecture but for their activations), a network of its own.</summary>
    public static MlpNetwork Merge(IReadOnlyList<MlpNetwork> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("Merging needs at least one network.", nameof(members));
        var config = Config(members.Select(n => n.Config).ToArray());
        var tensors = Merge(members[0].Config, members.Select(n => (IReadOnlyDictionary<string, float[]>)n.Tensors.ToDictionary(t => t.Name, t => t.Data, StringComparer.Ordinal)).ToArray());
        var merged = new MlpNetwork(config);
        StateDictionary.Load(merged, TensorLayout.Expected(merged.Config).Select(s => new TensorValue(s.Name, s.Shape, tensors[s.Name])));
        return merged;
    }

    // Where member m's input column c of hidden layer i sits in the merged layer's input.
    private static int InputColumn(MlpConfig member, int layer, int m, int k, int c)
    {
        if (layer > 0) return m * member.HiddenWidths[layer - 1] + c;
        if (member.IsDense) return c;
        int e = member.EmbeddingWidth, position = c / e;
        return position * e * k + m * e + c % e;
    }
}
