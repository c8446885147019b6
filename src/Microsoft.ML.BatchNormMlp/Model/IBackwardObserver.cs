namespace Microsoft.ML.BatchNormMlp.Model;

/// <summary>
/// Sees each hidden layer's output gradient ∂loss/∂h_i during <see cref="MlpNetwork.Backward"/>, the one
/// intermediate that backward overwrites before it returns (diagnostics read everything else afterwards from the
/// workspace and the parameters). Passed only on the steps being observed, so a normal step pays one null check
/// per layer.
/// </summary>
internal interface IBackwardObserver
{
    /// <summary>
    /// ∂loss/∂h_i [B, width_i] of hidden layer <paramref name="layer"/>'s output (the residual stream after it when
    /// it adds one), complete and valid only during the call.
    /// </summary>
    void LayerOutputGradient(int layer, ReadOnlySpan<float> gradient);
}
