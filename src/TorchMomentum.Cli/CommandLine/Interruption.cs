using System.Runtime.InteropServices;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>
/// Turns Ctrl+C (SIGINT) and SIGTERM into a request that the training loop sees between two steps, instead of
/// the runtime ending the process wherever it is: the loop then stops cleanly (the progress bar gives the
/// terminal its cursor back, losses.csv is flushed) and the command says what was kept. A second signal, a
/// second or more after the first, is left to the runtime, which ends the process at once, for a user who does
/// not want to wait. One sooner is the same stop said twice: Ctrl+C reaches every process of the terminal's
/// group (`dotnet run` and this one, `timeout` and this one), and some pass it on, so it can arrive twice.
/// </summary>
public sealed class Interruption : IDisposable
{
    private readonly PosixSignalRegistration[] registrations;
    private readonly CancellationTokenSource stop = new();
    private volatile int signal;
    private long firstTicks;

    private Interruption()
    {
        registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    /// <summary>Starts listening for the two signals, until disposed.</summary>
    public static Interruption Listen() => new();

    /// <summary>Whether a signal asked the command to stop.</summary>
    public bool Requested => signal != 0;

    /// <summary>Set when a signal asks the command to stop, for work that takes a token (a sweep, the writing of its results).</summary>
    public CancellationToken Token => stop.Token;

    /// <summary>The exit code for the signal received: <see cref="ExitCodes.Interrupted"/> or <see cref="ExitCodes.Terminated"/>.</summary>
    public int ExitCode => signal == (int)PosixSignal.SIGTERM ? ExitCodes.Terminated : ExitCodes.Interrupted;

    /// <summary>How the signal is named to the user.</summary>
    public string Name => signal == (int)PosixSignal.SIGTERM ? "SIGTERM" : "Ctrl+C";

    private void Handle(PosixSignalContext context)
    {
        if (signal == 0)
        {
            firstTicks = Environment.TickCount64;
            signal = (int)context.Signal;
            stop.Cancel();
        }
        // The same stop said twice is still a request; a second one later ends the process (not cancelled).
        context.Cancel = Environment.TickCount64 - firstTicks < 1000;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var registration in registrations) registration.Dispose();
        stop.Dispose();
    }
}
