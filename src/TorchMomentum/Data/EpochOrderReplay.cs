using TorchMomentum.Data;

namespace TorchMomentum.Data;

/// <summary>
/// A run's epoch orders replayed from its generator's state after the run's own draws (the data and the nets): each
/// epoch's permutation of the samples, drawn as PyTorch's DataLoader draws it (<see cref="EpochOrder.Next"/>), once,
/// for every reader. The one replay of a run's batch order: a sweep's chunks of one seed, whatever their engine or
/// batch size (every batch size cuts the same permutation into batches, as the DataLoader does), and the curvature
/// measured along a run (<see cref="Curvature.CurvatureAlongRun"/>). One draw an epoch for all of a seed's chunks
/// instead of one per chunk: a draw costs tens of microseconds, a few percent of a small sweep's training.
/// </summary>
/// <remarks>
/// Readers ask for their epochs in order, and a sweep's chunks all finish epoch e before any starts e + 1 (the workers
/// meet at a barrier), so one array holds the current epoch's order. A chunk that has stopped asks for no more; the
/// epochs it skips are drawn all the same when another chunk asks for a later one, since the generator must pass them.
/// </remarks>
internal sealed class EpochOrderReplay(byte[] generatorState, int samples)
{
    private readonly RunGenerator generator = new(generatorState);
    private readonly long[] order = new long[samples];
    private int drawn = -1; // the epoch whose order `order` holds

    /// <summary>Copies epoch <paramref name="epoch"/>'s order (a permutation of the samples) into <paramref name="into"/>.</summary>
    public void CopyTo(int epoch, Span<long> into)
    {
        lock (order)
        {
            if (epoch < drawn) throw new InvalidOperationException($"epoch {epoch}'s order was asked for after epoch {drawn}'s");
            for (; drawn < epoch; drawn++) EpochOrder.NextInto(generator, order);
            order.CopyTo(into);
        }
    }
}
