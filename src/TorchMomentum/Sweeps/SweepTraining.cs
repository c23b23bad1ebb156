using TorchMomentum.Data;
using TorchMomentum.Optimizers;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Sweeps;

/// <summary>What one cell of a sweep measured; its numbers are those of <c>train</c>'s <c>momentum</c> column for the cell's settings.</summary>
/// <param name="Cell">The cell.</param>
/// <param name="EpochLosses">The mean loss of each epoch it completed (batches weighted by their size, as <see cref="LossHistory"/> does); every epoch unless it diverged.</param>
/// <param name="FinalLoss">The loss of the last step, on that step's batch before its update; null when it diverged.</param>
/// <param name="DivergedStep">The step (from 0) whose loss was NaN or infinite, where the cell was frozen; null when it did not diverge.</param>
public sealed record CellResult(SweepCell Cell, double[] EpochLosses, double? FinalLoss, int? DivergedStep)
{
    /// <summary>The last epoch's mean loss; null when the cell diverged.</summary>
    public double? LastEpochLoss => DivergedStep is null ? EpochLosses[^1] : null;
}

/// <summary>
/// Trains a sweep's cells: one <see cref="StackedNet"/> per chunk of cells of one seed, each chunk the chapter's loop
/// (section 5.6) on the seed's mini-batches, with the chapter's momentum step (section 5.5.1,
/// <see cref="MomentumUpdate.Chapter(Tensor, Tensor, Tensor, Tensor, Tensor)"/>) applied to the whole stack at once,
/// each cell with its own lr and momentum. Chunks train on their own threads, each libtorch operation on one.
/// </summary>
/// <remarks>
/// Why chunks: a chunk's activations fit in a core's cache, so the dozen passes a step makes over them are not
/// paid at memory speed, and chunks need no coordination: a cell depends on nothing but its own weights and its
/// seed's batches, so each chunk replays its seed's batch order from the seed's generator state and runs every
/// epoch alone.
/// </remarks>
public static class SweepTraining
{
    /// <summary>Most chunks trained at once.</summary>
    public const int MaxThreads = 1024;

    /// <summary>
    /// Bytes of one activation tensor [cells, hidden, batch] of a chunk. Measured on the chapter's net (1,024 cells of
    /// one seed, one thread): 256 KB chunks ran 510,000 cell-steps/s, 1 MB 460,000, 4 MB (all 1,024 cells) 900,000.
    /// Past the caches the passes go at memory speed, but fewer, larger operations cost less in dispatch.
    /// </summary>
    public const long ChunkActivationBytes = 4L << 20;

    /// <summary>How many cells a chunk stacks for these settings.</summary>
    public static int ChunkCells(ExperimentSettings settings)
    {
        long element = settings.DType == ScalarType.Float64 ? 8 : 4;
        return (int)Math.Clamp(ChunkActivationBytes / ((long)settings.BatchSize * settings.Hidden * element), 1, 1024);
    }

    /// <summary>
    /// Trains the cells of <paramref name="shard"/> and returns their results in id order. Stops, throwing
    /// <see cref="OperationCanceledException"/>, soon after <paramref name="cancel"/> is set.
    /// </summary>
    /// <param name="grid">The sweep.</param>
    /// <param name="shard">Which of its cells to train (<see cref="Shard.Whole"/> for all).</param>
    /// <param name="device">Where to train.</param>
    /// <param name="threads">Chunks trained at once; libtorch's own intra-op threads should be 1.</param>
    /// <param name="onSteps">Told, from any thread, each time a chunk has trained a step: how many cell-steps that was.</param>
    /// <param name="onEpoch">Told, after each epoch, how many epochs are done, and given a way to read every cell's results so far (made only when asked for).</param>
    /// <param name="cancel">Stops the training.</param>
    public static IReadOnlyList<CellResult> Train(SweepGrid grid, Shard shard, Device device, int threads,
        Action<int>? onSteps = null, Action<int, Func<IReadOnlyList<CellResult>>>? onEpoch = null, CancellationToken cancel = default)
    {
        var cells = grid.Cells(shard).ToArray();
        var runs = new Dictionary<long, ChapterRun>();
        var chunks = new List<Chunk>();
        try
        {
            // The cell's data, initial weights and batch order are train's, drawn by train's own code: a chapter run of its seed.
            // Set-up stops on cancel too: thousands of seeds take seconds to draw.
            foreach (long seed in cells.Select(c => c.Seed).Distinct())
            {
                cancel.ThrowIfCancellationRequested();
                runs[seed] = new ChapterRun(grid.Training with { Seed = seed }, device);
            }
            foreach (var group in cells.GroupBy(c => c.Seed))
                foreach (var part in group.Chunk(ChunkCells(grid.Training)))
                {
                    cancel.ThrowIfCancellationRequested();
                    chunks.Add(new Chunk(part, runs[group.Key], grid.Training));
                }
            TrainOnWorkers(chunks, threads, grid.Training.Epochs, onSteps, onEpoch, cancel);
            return InIdOrder(chunks, grid.Training.Epochs);
        }
        finally
        {
            foreach (var chunk in chunks) chunk.Dispose();
            foreach (var run in runs.Values) run.Dispose();
        }
    }

    /// <summary>
    /// Trains every chunk for <paramref name="epochs"/> epochs on <paramref name="threads"/> workers made once: worker w
    /// takes chunks w, w + threads, ... every epoch, and the calling thread is worker 0. Dedicated threads that stay,
    /// rather than the pool's, which come and go: glibc gives each thread's allocations an arena of its own, which
    /// then grows to the thread's working size, once. Epoch by epoch: a chunk needs no other, but a watcher wants the
    /// whole map after each epoch, so the workers meet at a barrier, and the last to arrive tells the watcher.
    /// </summary>
    private static void TrainOnWorkers(List<Chunk> chunks, int threads, int epochs, Action<int>? onSteps,
        Action<int, Func<IReadOnlyList<CellResult>>>? onEpoch, CancellationToken cancel)
    {
        int workers = Math.Max(1, Math.Min(threads, chunks.Count));
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        int epochsDone = 0;
        using var epochEnd = new Barrier(workers, _ =>
        {
            epochsDone++;
            if (failures.IsEmpty) onEpoch?.Invoke(epochsDone, () => InIdOrder(chunks, epochsDone));
        });
        void Worker(int w)
        {
            for (int epoch = 0; epoch < epochs; epoch++)
            {
                try
                {
                    for (int i = w; i < chunks.Count && failures.IsEmpty; i += workers) chunks[i].TrainEpoch(epoch, onSteps, cancel);
                }
                catch (Exception e)
                {
                    failures.Enqueue(e);
                }
                try
                {
                    epochEnd.SignalAndWait(CancellationToken.None);
                }
                catch (BarrierPostPhaseException e)
                {
                    failures.Enqueue(e.InnerException ?? e); // the watcher threw: every worker stops
                }
                if (!failures.IsEmpty) return;
            }
        }
        var others = Enumerable.Range(1, workers - 1).Select(w => new Thread(() => Worker(w)) { IsBackground = true, Name = $"sweep worker {w}" }).ToList();
        foreach (var thread in others) thread.Start();
        Worker(0);
        foreach (var thread in others) thread.Join();
        if (failures.TryDequeue(out var first)) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
    }

    private static CellResult[] InIdOrder(List<Chunk> chunks, int epochsDone) =>
        chunks.SelectMany(c => c.Results(epochsDone)).OrderBy(r => r.Cell.Id).ToArray();

    /// <summary>
    /// One chunk of cells that share a seed, and where its training is: the chapter's loop, an epoch at a time.
    /// A diverged cell is frozen: its lr and momentum become 0, its velocity and its (NaN) gradients 0, so the
    /// update p - v leaves it where it was, and its results end at the step before.
    /// </summary>
    private sealed class Chunk : IDisposable
    {
        private readonly SweepCell[] cells;
        private readonly ExperimentSettings settings;
        private readonly Tensor x, y;
        private readonly RunGenerator generator;
        private readonly StackedNet net;
        private readonly FlatBucket bucket;
        private readonly double[][] epochLosses;
        private readonly double[] epochSum, finalLoss, losses;
        private readonly int[] diverged;
        private Tensor lr, momentum;
        private Tensor? frozen;

        public Chunk(SweepCell[] cells, ChapterRun start, ExperimentSettings settings)
        {
            this.cells = cells;
            this.settings = settings;
            (x, y) = start.Data;
            generator = new RunGenerator(start.GeneratorState);
            epochLosses = cells.Select(_ => new double[settings.Epochs]).ToArray();
            epochSum = new double[cells.Length];
            finalLoss = new double[cells.Length];
            losses = new double[cells.Length];
            diverged = Enumerable.Repeat(-1, cells.Length).ToArray();
            net = new StackedNet(start.MomentumNet, cells.Length);
            bucket = new FlatBucket(net.parameters().ToList());
            lr = PerElement(c => cells[c].Lr);
            momentum = PerElement(c => cells[c].Momentum);
        }

        private Tensor PerElement(Func<int, double> value)
        {
            using var perCell = tensor(Enumerable.Range(0, cells.Length).Select(value).ToArray(), settings.DType, x.device);
            return net.PerElement(perCell).DetachFromDisposeScope();
        }

        public void TrainEpoch(int epoch, Action<int>? onSteps, CancellationToken cancel)
        {
            int n = cells.Length;
            using var epochScope = NewDisposeScope();
            var (batchesX, batchesY) = EpochOrder.Batches(x, y, settings.BatchSize, samples => generator.Draw(() => EpochOrder.Next(samples)));
            for (int b = 0, step = epoch * settings.StepsPerEpoch; b < batchesX.Length; b++, step++)
            {
                cancel.ThrowIfCancellationRequested();
                using var stepScope = NewDisposeScope();
                var loss = net.LossAndGradient(batchesX[b], batchesY[b], out var gradient);
                ReadInto(losses, loss);
                int size = settings.BatchSizeOf(step);
                bool froze = false;
                for (int c = 0; c < n; c++)
                {
                    if (diverged[c] >= 0) continue;
                    if (!double.IsFinite(losses[c]))
                    {
                        diverged[c] = step;
                        froze = true;
                        continue;
                    }
                    epochSum[c] += losses[c] * size;
                    finalLoss[c] = losses[c];
                }
                if (froze) Freeze();
                if (frozen is not null) gradient.masked_fill_(frozen, 0);
                using (no_grad()) MomentumUpdate.Chapter(bucket.FlatParameters, gradient, bucket.FlatState, momentum, lr);
                onSteps?.Invoke(n);
            }
            // The epoch's mean over its samples, as LossHistory takes it for train.
            for (int c = 0; c < n; c++)
            {
                if (diverged[c] < 0) epochLosses[c][epoch] = epochSum[c] / settings.Samples;
                epochSum[c] = 0;
            }
        }

        /// <summary>
        /// The cells' losses as doubles, read from the tensor's bytes into an array made once (a step allocates
        /// nothing that outlives it, and a float32 loss needs no conversion on the device first).
        /// </summary>
        private static void ReadInto(double[] losses, Tensor loss)
        {
            using var host = loss.device_type == TorchSharp.DeviceType.CPU ? null : loss.cpu();
            var bytes = (host ?? loss).bytes;
            if (loss.dtype == ScalarType.Float32)
            {
                var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes);
                for (int c = 0; c < losses.Length; c++) losses[c] = values[c];
            }
            else System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(bytes).CopyTo(losses);
        }

        private void Freeze()
        {
            var (oldLr, oldMomentum, oldFrozen) = (lr, momentum, frozen);
            lr = PerElement(c => diverged[c] >= 0 ? 0 : cells[c].Lr);
            momentum = PerElement(c => diverged[c] >= 0 ? 0 : cells[c].Momentum);
            using (var isFrozen = tensor(diverged.Select(d => d >= 0).ToArray(), device: x.device))
                frozen = net.PerElement(isFrozen).DetachFromDisposeScope();
            bucket.FlatState.masked_fill_(frozen, 0);
            oldLr.Dispose();
            oldMomentum.Dispose();
            oldFrozen?.Dispose();
        }

        /// <summary>Every cell's results after <paramref name="epochsDone"/> epochs.</summary>
        public IEnumerable<CellResult> Results(int epochsDone) => cells.Select((cell, c) => diverged[c] < 0
            ? new CellResult(cell, epochLosses[c][..epochsDone], finalLoss[c], null)
            : new CellResult(cell, epochLosses[c][..(diverged[c] / settings.StepsPerEpoch)], null, diverged[c]));

        public void Dispose()
        {
            lr.Dispose();
            momentum.Dispose();
            frozen?.Dispose();
            bucket.Dispose();
            net.Dispose();
        }
    }
}
