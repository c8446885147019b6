using System.Runtime.InteropServices;

namespace BatchNormMlp.Cli;

/// <summary>
/// Stops a training between two steps on Ctrl+C (SIGINT) or SIGTERM (<c>kill</c>, a job scheduler's or a container's
/// stop), so that a run with a checkpoint path saves the step it reached. A second signal is left to its default
/// action, the process ending at once: a user pressing Ctrl+C again does not wait for a long evaluation, and nothing
/// already written is lost (checkpoints and models go to a temporary file, then are renamed).
/// A signal the process was started ignoring (a shell's background job ignores SIGINT) stays ignored.
/// </summary>
internal sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource _requested = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _signals;

    public Interruption()
    {
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)];
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => _requested.Token;

    public bool IsRequested => _requested.IsCancellationRequested;

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _signals) > 1) return;   // not cancelled: the default action ends the process
        context.Cancel = true;
        try { _requested.Cancel(); }
        catch (ObjectDisposedException) { }   // dispatched just as the training ended
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
        _requested.Dispose();
    }
}
