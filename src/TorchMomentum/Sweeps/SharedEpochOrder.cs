using TorchMomentum.Data;

namespace TorchMomentum.Sweeps;

/// <summary>
/// The epoch orders of one seed, drawn once for all of its chunks: every chunk of a seed, whatever its batch size,
/// cuts the same permutation into batches (as PyTorch's DataLoader does), so one draw an epoch serves them all
/// instead of one per chunk (a draw costs tens of microseconds, a few percent of a small sweep's training).
/// </summary>
/// <remarks>
/// Chunks ask for their epochs in order, and every chunk finishes epoch e before any starts e + 1 (the workers meet at
/// a barrier), so one array holds the current epoch's order. A chunk that has stopped asks for no more; the epochs it
/// skips are drawn all the same when another chunk asks for a later one, since the generator must pass them.
/// </remarks>
internal sealed class SharedEpochOrder(byte[] generatorState, int samples)
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
