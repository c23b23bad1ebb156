namespace TorchMomentum.Cli.Explore;

/// <summary>
/// The computations the explore API answers at once (a bowl path, noisy runs, past-gradient weights): as many as
/// there are cores. More would only time-slice them all slower and hold thread-pool threads that the server's I/O
/// needs; the rest wait their turn, first come first served. Trainings have their own slots (<see cref="TrainingSlots"/>).
/// </summary>
public static class CoreSlots
{
    private static readonly SemaphoreSlim Cores = new(Environment.ProcessorCount);

    /// <summary>Runs <paramref name="work"/> once a core is free; a request closed while it waits never starts it.</summary>
    public static async Task<T> Run<T>(Func<T> work, CancellationToken aborted)
    {
        await Cores.WaitAsync(aborted);
        try
        {
            return work();
        }
        finally
        {
            Cores.Release();
        }
    }
}
