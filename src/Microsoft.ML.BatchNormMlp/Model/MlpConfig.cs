namespace Microsoft.ML.BatchNormMlp;

/// <summary>The nonlinearity used in the hidden layers.</summary>
public enum Activation
{
    /// <summary>Hyperbolic tangent, as in the makemore seeds.</summary>
    Tanh,
    /// <summary>Rectified linear unit, as in the MNIST-1D residual network.</summary>
    Relu,
}

/// <summary>How a hidden layer arranges Linear, BatchNorm, activation and the residual add.</summary>
public enum BlockStyle
{
    /// <summary><c>y = act(bn(linear(h)))</c>; with residual streams <c>h = h + y</c> where widths match (the first seed's DeepMLP).</summary>
    PostActivation,
    /// <summary>Layer 0 is a plain Linear stem; every later layer is <c>h = h + linear(act(bn(h)))</c> (ResNet v2, the fourth seed).</summary>
    PreActivation,
}

/// <summary>
/// The architecture of a BatchNorm MLP: everything needed to rebuild the network from its tensors.
/// It is written into every model file, so it holds no training hyperparameters.
/// </summary>
public sealed record MlpConfig
{
    /// <summary>Number of previous symbols fed to the model (the seeds use 3). Ignored for dense inputs.</summary>
    public int ContextLength { get; init; } = 3;

    /// <summary>Symbols in the vocabulary, including the boundary symbol: rows of the embedding table. 0 for dense inputs.</summary>
    public int VocabularySize { get; init; }

    /// <summary>Width of each symbol's embedding vector. 0 for dense inputs.</summary>
    public int EmbeddingWidth { get; init; } = 10;

    /// <summary>Width of a dense float input row (MNIST-1D: 40). 0 for embedded symbol inputs.</summary>
    public int DenseInputWidth { get; init; }

    /// <summary>Width of the logits: the vocabulary size for a character model, the class count for a classifier.</summary>
    public int OutputWidth { get; init; }

    /// <summary>Output width of each hidden Linear layer, first to last.</summary>
    public IReadOnlyList<int> HiddenWidths { get; init; } = [200];

    /// <summary>Hidden nonlinearity (of every hidden unit unless <see cref="ActivationGroups"/> says otherwise).</summary>
    public Activation Activation { get; init; } = Activation.Tanh;

    /// <summary>
    /// <see langword="null"/> (the usual): every hidden unit applies <see cref="Activation"/>. Otherwise every hidden
    /// layer's units split into this many equal consecutive groups, group g applying <c>ActivationGroups[g]</c> (and
    /// <see cref="Activation"/> is ignored). Merging networks of different activations into one makes such a network
    /// (<see cref="BatchNormCharacterModel.Merge"/>): each member keeps its own nonlinearity in its slice of the layers.
    /// Every hidden width must divide by the group count.
    /// </summary>
    public IReadOnlyList<Activation>? ActivationGroups { get; init; }

    /// <summary>Block arrangement of the hidden layers.</summary>
    public BlockStyle BlockStyle { get; init; } = BlockStyle.PostActivation;

    /// <summary>Whether hidden layers add their input back (residual streams) where the widths match.</summary>
    public bool Residual { get; init; }

    /// <summary>Whether hidden Linear layers carry a bias (redundant before a BatchNorm; the seeds drop it).</summary>
    public bool HiddenBias { get; init; }

    /// <summary>Whether hidden layers have a BatchNorm1d (after the Linear for post-activation, before the activation for pre-activation).</summary>
    public bool HiddenBatchNorm { get; init; } = true;

    /// <summary>Whether the output Linear layer carries a bias.</summary>
    public bool OutputBias { get; init; } = true;

    /// <summary>Whether a BatchNorm1d follows the output Linear layer (the third seed).</summary>
    public bool OutputBatchNorm { get; init; }

    /// <summary>BatchNorm epsilon added to the variance (PyTorch's default 1e-5).</summary>
    public float BatchNormEpsilon { get; init; } = 1e-5f;

    /// <summary>BatchNorm running-statistics momentum (PyTorch's default 0.1).</summary>
    public float BatchNormMomentum { get; init; } = 0.1f;

    /// <summary>Width of the vector entering the first hidden layer.</summary>
    public int InputWidth => DenseInputWidth > 0 ? DenseInputWidth : ContextLength * EmbeddingWidth;

    /// <summary>True when the model reads dense float rows instead of symbol ids.</summary>
    public bool IsDense => DenseInputWidth > 0;

    /// <summary>The nonlinearity of each group of hidden units: <see cref="ActivationGroups"/>, or one group of <see cref="Activation"/>.</summary>
    internal IReadOnlyList<Activation> EffectiveActivations => ActivationGroups ?? [Activation];

    /// <summary>
    /// Whether the two describe the same network. The record's own equality compares the lists
    /// (<see cref="HiddenWidths"/>, <see cref="ActivationGroups"/>) by reference; this compares their elements.
    /// </summary>
    internal bool SameArchitecture(MlpConfig other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return HiddenWidths.SequenceEqual(other.HiddenWidths)
            && (ActivationGroups is null ? other.ActivationGroups is null : other.ActivationGroups is not null && ActivationGroups.SequenceEqual(other.ActivationGroups))
            && this with { HiddenWidths = other.HiddenWidths, ActivationGroups = other.ActivationGroups } == other;
    }

    /// <summary>Why <see cref="MlpConfig.ActivationGroups"/> cannot split its hidden layers, or null when they can (or are absent).</summary>
    internal string? ActivationGroupsProblem()
    {
        if (ActivationGroups is not { } groups) return null;
        if (groups.Count == 0) return "an empty list (leave it null for one activation)";
        for (int g = 0; g < groups.Count; g++)
            if (!Enum.IsDefined(groups[g])) return $"entry {g} is {(int)groups[g]}, not tanh or relu";
        for (int i = 0; i < HiddenWidths.Count; i++)
            if (HiddenWidths[i] % groups.Count != 0)
                return $"hidden width {i} ({HiddenWidths[i]}) does not split into {groups.Count} equal groups";
        return null;
    }
}
