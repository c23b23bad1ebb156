using System.Buffers;
using System.Collections.Concurrent;
using TorchMomentum.Files;
using TorchMomentum.Sweeps;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// Writes a whole sweep's epoch-losses.csv while it trains: each epoch's rows as the epoch ends
/// (<see cref="SweepTraining.Train"/>'s <c>onEpochLosses</c>), formatted on a thread of its own, so that the file
/// is all but written when the training ends, at any number of epochs. The rows are epoch by epoch, cells in id
/// order within each (<see cref="SweepCsv.WriteEpochs"/> writes the same bytes from a sweep's results, as
/// <c>sweep merge</c> does). Until <see cref="Complete"/> it is a staged file; disposed before that (a stop, a
/// failure), it leaves nothing.
/// </summary>
public sealed class EpochLossesStream : IDisposable
{
    // An epoch's losses handed to the writer: a rented array, given back once its rows are written. At most a few
    // epochs wait: a training far ahead of its writer waits for it at the end of an epoch rather than fill memory.
    private readonly BlockingCollection<(int Epoch, double[] Losses, int Count)> epochs = new(boundedCapacity: 8);
    private readonly CancellationTokenSource stop = new();
    private readonly Task writing;
    private bool completed;

    /// <summary>Starts the writer on <paramref name="path"/> (a staged path of the run folder).</summary>
    public EpochLossesStream(string path)
    {
        var token = stop.Token;
        writing = Task.Factory.StartNew(() => CsvFile.WriteNumbers(path, SweepCsv.EpochsHeader, rows =>
        {
            foreach (var (epoch, losses, count) in epochs.GetConsumingEnumerable(token))
            {
                SweepCsv.EpochRows(rows, epoch, losses.AsSpan(0, count));
                ArrayPool<double>.Shared.Return(losses);
            }
        }, token), token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // A writer that failed (a full disk) takes no more rows, so that the training never waits on it: Complete says why.
        writing.ContinueWith(_ => stop.Cancel(), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>An epoch has ended (<see cref="EpochLossesHandler"/>): its losses are copied and queued for writing.</summary>
    public void Add(int epoch, ReadOnlySpan<double> lossByCell)
    {
        if (stop.IsCancellationRequested) return;
        var copy = ArrayPool<double>.Shared.Rent(Math.Max(1, lossByCell.Length));
        lossByCell.CopyTo(copy);
        try
        {
            epochs.Add((epoch, copy, lossByCell.Length), stop.Token);
        }
        catch (OperationCanceledException)
        {
            ArrayPool<double>.Shared.Return(copy);
        }
    }

    /// <summary>The training has ended: waits for the last rows to be written (the file is then in its staged place).</summary>
    public void Complete()
    {
        epochs.CompleteAdding();
        writing.GetAwaiter().GetResult();
        completed = true;
    }

    /// <summary>Stops a writer that did not complete, leaving no file.</summary>
    public void Dispose()
    {
        if (!completed)
        {
            stop.Cancel();
            try { writing.Wait(); } catch (AggregateException) { } // cancelled or failed: AtomicFile kept nothing
        }
        epochs.Dispose();
    }
}
