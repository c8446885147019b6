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

    /// <summary>Hidden nonlinearity.</summary>
    public Activation Activation { get; init; } = Activation.Tanh;

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
}
