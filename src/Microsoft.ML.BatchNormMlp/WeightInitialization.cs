namespace Microsoft.ML.BatchNormMlp;

/// <summary>How a trainer initializes the Linear layers (embeddings are always N(0, 1), as nn.Embedding does).</summary>
public enum WeightInitialization
{
    /// <summary>nn.Linear's default: weights and biases U(-1/√fan_in, 1/√fan_in).</summary>
    PyTorchDefault,
    /// <summary>Hidden weights N(0, gain/√fan_in) (gain 5/3 for tanh, √2 for ReLU); biases and the output layer as <see cref="PyTorchDefault"/>.</summary>
    KaimingNormal,
    /// <summary>Every Linear, output included: weights U(±√(6/fan_in)), zero biases (the fourth seed).</summary>
    HeUniform,
    /// <summary>Every weight and bias N(0, 1): the seeds' naive start that saturates tanh; for experiments only.</summary>
    NaiveNormal,
}
