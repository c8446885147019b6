namespace Microsoft.ML.BatchNormMlp;

/// <summary>The optimizer a trainer updates the parameters with (PyTorch's arithmetic).</summary>
public enum OptimizerAlgorithm
{
    /// <summary>torch.optim.SGD, with optional momentum and L2 weight decay.</summary>
    Sgd,
    /// <summary>torch.optim.Adam (β1 0.9, β2 0.999, ε 1e-8), with optional L2 weight decay.</summary>
    Adam,
    /// <summary>torch.optim.AdamW (β1 0.9, β2 0.999, ε 1e-8): Adam with decoupled weight decay (the weights shrink by learning rate x decay each step).</summary>
    AdamW,
}
