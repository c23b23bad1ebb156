using static TorchSharp.torch;

namespace TorchMomentum.Data;

/// <summary>
/// The order in which one epoch visits the samples, drawn the way PyTorch's
/// <c>DataLoader(shuffle=True, num_workers=0)</c> draws it, so a seeded run sees the same batches as the
/// chapter's program.
/// </summary>
public static class EpochOrder
{
    /// <summary>
    /// At the start of every epoch PyTorch's loader iterator takes two int64 values from the global
    /// generator (its own base seed, then the sampler's seed) and orders the epoch by
    /// <c>randperm(n)</c> from a fresh generator seeded with the second. Both draws are made here even
    /// though the first is unused, because skipping it would shift every later random number.
    /// </summary>
    /// <param name="samples">Number of samples to order.</param>
    /// <returns>A permutation of 0..samples-1 on the CPU (int64).</returns>
    public static Tensor Next(long samples)
    {
        _ = DrawInt64();
        using var sampler = new Generator((ulong)DrawInt64());
        return randperm(samples, generator: sampler);
    }

    /// <summary>
    /// The next epoch's order drawn from <paramref name="generator"/> into <paramref name="order"/> (as long as the
    /// samples are many), for loops that gather their own batches. Read from the drawn tensor itself (int64, on the
    /// CPU): a <c>.to()</c> or <c>.contiguous()</c> would make a second tensor to dispose, and one left to the
    /// finalizer holds its permutation until a collection (a sweep's RSS grew all run that way).
    /// </summary>
    public static void NextInto(RunGenerator generator, Span<long> order)
    {
        int samples = order.Length;
        using var permutation = generator.Draw(() => Next(samples));
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(permutation.bytes).CopyTo(order);
    }

    /// <summary>
    /// The epoch's mini-batches in that order: one gather of the shuffled data, then one split into batches
    /// that are views of it, so no tensor operation is spent per step on batching. The last batch may be
    /// smaller. Call it inside a dispose scope that lasts the epoch.
    /// </summary>
    /// <param name="x">Inputs.</param>
    /// <param name="y">Targets.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="order">Draws the epoch's order for a number of samples; <see cref="Next"/> by default.</param>
    public static (Tensor[] X, Tensor[] Y) Batches(Tensor x, Tensor y, int batchSize, Func<long, Tensor>? order = null)
    {
        var permutation = (order ?? Next)(x.shape[0]).to(x.device);
        return (x.index_select(0, permutation).split(batchSize), y.index_select(0, permutation).split(batchSize));
    }

    /// <summary>
    /// PyTorch's argument-less <c>random_()</c> on an int64 tensor, which TorchSharp lacks: one 64-bit
    /// draw r from the global generator, returned as r mod 2^63. <c>randint(long.MinValue, long.MaxValue)</c>
    /// consumes the same single draw and returns r - 2^63 (mod 2^64), whose low 63 bits are r's.
    /// </summary>
    public static long DrawInt64()
    {
        using var drawn = randint(long.MinValue, long.MaxValue, [1], dtype: ScalarType.Int64);
        return drawn.item<long>() & long.MaxValue;
    }
}
