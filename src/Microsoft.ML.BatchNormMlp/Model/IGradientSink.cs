namespace Microsoft.ML.BatchNormMlp.Model;

/// <summary>
/// Told during <see cref="MlpNetwork.Backward"/> as soon as a layer's parameter gradients are final, so that an
/// optimizer can update those parameters while they and their gradients are still in cache instead of streaming
/// every parameter through memory again afterwards (a third of a deep network's memory traffic per step).
/// </summary>
internal interface IGradientSink
{
    /// <summary>
    /// <c>Parameters[first .. first + count)</c> hold their final gradients for this pass, and the rest of the
    /// backward pass reads neither them nor their values: they may be updated now.
    /// </summary>
    void GradientsReady(int first, int count);
}
