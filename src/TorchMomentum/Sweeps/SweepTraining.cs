using TorchMomentum.Model;
using TorchMomentum.Data;
using TorchMomentum.Optimizers;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Sweeps;

/// <summary>What one cell of a sweep measured; its numbers are those of <c>train</c>'s <c>momentum</c> column for the cell's settings.</summary>
/// <param name="Cell">The cell.</param>
/// <param name="EpochLosses">The mean loss of each epoch it completed (batches weighted by their size, as <see cref="LossHistory"/> does); every epoch unless it diverged or stopped early.</param>
/// <param name="FinalLoss">The loss of the last step it trained, on that step's batch before its update; null when it diverged.</param>
/// <param name="DivergedStep">The step (from 0) whose loss was NaN or infinite, where the cell was frozen; null when it did not diverge.</param>
/// <param name="StepsToTargets">
/// Per target of the grid (<see cref="SweepGrid.TargetNames"/>), the first number of steps after which the full-data
/// loss was at or below it (<see cref="Measure.First"/>); null where it was not reached within the budget (or before the cell diverged).
/// </param>
/// <param name="SustainedSteps">Per target, the first step from which it stayed at or below it (<see cref="Measure.Sustained"/>); null where none did within the budget.</param>
/// <param name="Curve">
/// With targets, the full-data loss after each step of the budget (index i: after i + 1 steps) as float, less the
/// seed's noise floor when the targets are excesses over it (<see cref="SweepGrid.Excess"/>), +infinity from where it
/// diverged; empty otherwise. A study's mean over seeds reads it.
/// </param>
public sealed record CellResult(SweepCell Cell, double[] EpochLosses, double? FinalLoss, int? DivergedStep, int?[] StepsToTargets, int?[] SustainedSteps, float[] Curve)
{
    /// <summary>The last completed epoch's mean loss; null when the cell diverged or stopped before an epoch ended.</summary>
    public double? LastEpochLoss => DivergedStep is null && EpochLosses.Length > 0 ? EpochLosses[^1] : null;

    /// <summary>Steps the cell trained: to its step budget, or to the step before the one that diverged.</summary>
    public static int StepsTrained(int budget, int? divergedStep) => divergedStep ?? budget;
}

/// <summary>
/// Trains a sweep's cells in chunks, each of cells of one seed and batch size: the chapter's loop (section 5.6) on the
/// seed's mini-batches, with the chapter's momentum step (section 5.5.1) for every cell at its own lr and momentum. In
/// the torch engine a chunk is a <see cref="StackedNet"/> and its step
/// <see cref="MomentumUpdate.Chapter(Tensor, Tensor, Tensor, Tensor, Tensor)"/> over the whole stack; in the fused
/// engine (<see cref="FusedChunk{T}"/>) a cell is a vector lane of <see cref="FusedStep"/>'s kernel. Chunks train on
/// dedicated workers, epoch by epoch, each libtorch operation on one thread.
/// </summary>
/// <remarks>
/// Why chunks: they need no coordination. A cell depends on nothing but its own weights and its seed's batches, so
/// each chunk replays its seed's batch order from the seed's generator state, and which cells share a chunk changes
/// no cell's numbers. The torch engine sizes a chunk by its activations (<see cref="ChunkActivationBytes"/>, the
/// fastest measured); the fused engine's chunk is a unit of work, 256 cells. Epoch by epoch so that a watcher
/// (progress, the explore page) sees every chunk's epoch before the next.
/// </remarks>
public static class SweepTraining
{
    /// <summary>How much set-up a shard's training has (<c>onSetUp</c>'s units): its seeds' data (one each, per label noise) and its cells.</summary>
    public static long SetUpUnits(SweepGrid grid, Shard shard) =>
        Math.Min(grid.CellCountOf(shard), (long)grid.CellSeeds.Count * grid.NoiseLevels.Count) + grid.CellCountOf(shard);

    /// <summary>Most chunks trained at once.</summary>
    public const int MaxThreads = 1024;

    /// <summary>
    /// Bytes of one activation tensor [cells, hidden, batch] of a chunk. Measured on the chapter's net (1,024 cells of
    /// one seed, one thread): 256 KB chunks ran 510,000 cell-steps/s, 1 MB 460,000, 4 MB (all 1,024 cells) 900,000.
    /// Past the caches the passes go at memory speed, but fewer, larger operations cost less in dispatch.
    /// </summary>
    public const long ChunkActivationBytes = 4L << 20;

    /// <summary>How many cells a chunk stacks for these settings.</summary>
    public static int ChunkCells(ExperimentSettings settings, SweepEngine engine = SweepEngine.Torch)
    {
        // The fused engine keeps a group's state in L1 and streams nothing: a chunk is a unit of work for a thread, 256 cells.
        if (engine == SweepEngine.Fused) return 256;
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
    /// <param name="onTrainingStarts">Told when set-up (each seed's data and net drawn, the cells made) is done and the first step is next.</param>
    /// <param name="onSetUp">Told, as set-up goes on, how much of it is done: each seed's data drawn counts 1, each cell made 1, of <see cref="SetUpUnits"/>.</param>
    /// <param name="onEpochLosses">Told each epoch's mean losses as it ends, before <paramref name="onEpoch"/>: a writer of the epoch losses keeps up with the training instead of following it.</param>
    public static IReadOnlyList<CellResult> Train(SweepGrid grid, Shard shard, Device device, int threads,
        Action<int>? onSteps = null, Action<int, Func<IReadOnlyList<CellResult>>>? onEpoch = null, CancellationToken cancel = default, Action? onTrainingStarts = null,
        Action<long>? onSetUp = null, EpochLossesHandler? onEpochLosses = null)
    {
        long setUp = 0;
        var cells = grid.Cells(shard).ToArray();
        var runs = new Dictionary<(long Seed, double Noise), ChapterRun>();
        var chunks = new List<ISweepChunk>();
        try
        {
            // The cell's data, initial weights and batch order are train's, drawn by train's own code: a chapter run of its seed.
            // Set-up stops on cancel too: thousands of seeds take seconds to draw.
            foreach (var data in cells.Select(c => (c.Seed, c.LabelNoise)).Distinct())
            {
                cancel.ThrowIfCancellationRequested();
                runs[data] = new ChapterRun(grid.Training with { Seed = data.Seed, LabelNoise = data.LabelNoise }, device);
                onSetUp?.Invoke(++setUp);
            }
            // The seed's data and batch order are the same at every batch size (one permutation per epoch, cut into
            // batches of the cell's size). Cells of close effective lr share a chunk: a chunk stops when all its cells
            // have diverged, and such cells tend to diverge together. Which cells share a chunk changes no cell's numbers.
            var orders = runs.ToDictionary(r => r.Key, r => new EpochOrderReplay(r.Value.GeneratorState, grid.Training.Samples));
            var full = grid.MeasuresSteps ? runs.ToDictionary(r => r.Key, r =>
            {
                var (x, y) = r.Value.DataInFloat64(); // read once a seed, in float64
                double floor = Data.ChapterData.FloorOf(x, y);
                return (Loss: new FullDataLoss(x, y), Targets: grid.TargetsAbove(floor), CurveBelow: grid.Excess.Count > 0 ? floor : 0);
            }) : null;
            foreach (var group in cells.GroupBy(c => (c.Seed, c.LabelNoise, c.BatchSize)))
            {
                var settings = grid.SettingsOf(group.Key.BatchSize) with { LabelNoise = group.Key.LabelNoise };
                var data = (group.Key.Seed, group.Key.LabelNoise);
                foreach (var part in group.OrderByDescending(c => c.EffectiveLr).ThenBy(c => c.Id).Chunk(ChunkCells(settings, device.type == TorchSharp.DeviceType.CPU ? grid.Engine : SweepEngine.Torch)))
                {
                    cancel.ThrowIfCancellationRequested();
                    chunks.Add(NewChunk(grid, part, runs[data], orders[data], settings, full?[data].Loss, full?[data].Targets ?? [], full?[data].CurveBelow ?? 0, device));
                    onSetUp?.Invoke(setUp += part.Length);
                }
            }
            int epochs = grid.CellBatchSizes.Max(b => grid.SettingsOf(b).Epochs);
            onTrainingStarts?.Invoke();
            long first = cells.Length == 0 ? 0 : cells.Min(c => c.Id);
            var lossByCell = onEpochLosses is null ? [] : new double[cells.Length];
            void EpochEnded(int epochsDone)
            {
                if (onEpochLosses is null) return;
                foreach (var chunk in chunks) chunk.Ledger.EpochLosses(epochsDone - 1, lossByCell, first, shard.Count);
                onEpochLosses(epochsDone - 1, lossByCell);
            }
            TrainOnWorkers(chunks, threads, epochs, onSteps, (done, results) =>
            {
                EpochEnded(done);
                onEpoch?.Invoke(done, results);
            }, cancel);
            return InIdOrder(chunks, epochs);
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
    private static void TrainOnWorkers(List<ISweepChunk> chunks, int threads, int epochs, Action<int>? onSteps,
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

    /// <summary>
    /// Forces the fused engine's scalar path even where vectors run: for the tests, which compare the two paths' bytes.
    /// </summary>
    internal static bool ForceScalar { get; set; }

    private static ISweepChunk NewChunk(SweepGrid grid, SweepCell[] part, ChapterRun start, EpochOrderReplay orders, ExperimentSettings settings, FullDataLoss? full,
        IReadOnlyList<double> targets, double curveBelow, Device device)
    {
        int budget = grid.StepBudget(part[0].BatchSize);
        var ledger = new CellLedger(part, settings, targets, budget, curveBelow);
        if (grid.Engine == SweepEngine.Torch || device.type != TorchSharp.DeviceType.CPU)
            return new TorchChunk(part, start, orders, settings, budget, ledger, full);
        return settings.DType == ScalarType.Float64
            ? new FusedChunk<double>(part, start, orders, settings, budget, ledger, full, ForceScalar)
            : new FusedChunk<float>(part, start, orders, settings, budget, ledger, full, ForceScalar);
    }

    private static CellResult[] InIdOrder(List<ISweepChunk> chunks, int epochsDone) =>
        chunks.SelectMany(c => c.Ledger.Results(epochsDone)).OrderBy(r => r.Cell.Id).ToArray();

    /// <summary>
    /// One chunk of cells that share a seed and a batch size, trained by <see cref="StackedNet"/> (the torch engine): the
    /// chapter's loop, an epoch at a time, up to its step budget. A cell that diverged
    /// is frozen: its lr and momentum become 0, its velocity and its gradients 0, so the update p - v leaves it where
    /// it was (<see cref="CellLedger"/> keeps what it measured).
    /// </summary>
    private sealed class TorchChunk : ISweepChunk
    {
        private readonly SweepCell[] cells;
        private readonly ExperimentSettings settings;
        private readonly int budget;
        private readonly FullDataLoss? full;
        private readonly CellLedger ledger;
        private readonly Tensor x, y;
        private readonly EpochOrderReplay orders;
        private readonly long[] order;
        private readonly StackedNet net;
        private readonly FlatBucket bucket;
        private readonly double[] losses, weights, scratch;
        private Tensor lr, momentum;
        private Tensor? frozen;

        public TorchChunk(SweepCell[] cells, ChapterRun start, EpochOrderReplay orders, ExperimentSettings settings, int budget, CellLedger ledger, FullDataLoss? full)
        {
            this.cells = cells;
            this.settings = settings;
            this.budget = budget;
            this.full = full;
            this.ledger = ledger;
            (x, y) = start.Data;
            this.orders = orders;
            order = new long[settings.Samples];
            losses = new double[cells.Length];
            net = new StackedNet(start.MomentumNet, cells.Length);
            bucket = new FlatBucket(net.parameters().ToList());
            weights = new double[bucket.FlatParameters.numel()];
            scratch = new double[2 * settings.Hidden];
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
            int first = epoch * settings.StepsPerEpoch;
            if (first >= budget || ledger.AllStopped) return;
            using var epochScope = NewDisposeScope();
            orders.CopyTo(epoch, order);
            var (batchesX, batchesY) = EpochOrder.Batches(x, y, settings.BatchSize, _ => tensor(order));
            for (int b = 0, step = first; b < batchesX.Length && step < budget; b++, step++)
            {
                cancel.ThrowIfCancellationRequested();
                using var stepScope = NewDisposeScope();
                var loss = net.LossAndGradient(batchesX[b], batchesY[b], out var gradient);
                ReadInto(losses, loss);
                if (ledger.RecordStep(step, losses)) Freeze();
                if (frozen is not null) gradient.masked_fill_(frozen, 0);
                using (no_grad()) MomentumUpdate.Chapter(bucket.FlatParameters, gradient, bucket.FlatState, momentum, lr);
                if (full is not null) MeasureTargets(step + 1);
                if (ledger.StepDone(step, budget, onSteps)) break;
            }
            ledger.EndEpoch(epoch);
        }

        /// <summary>Takes every training cell's full-data loss after <paramref name="steps"/> steps.</summary>
        private void MeasureTargets(int steps)
        {
            int n = cells.Length, hidden = settings.Hidden;
            ReadInto(weights, bucket.FlatParameters);
            // The flat buffer lays out hidden.weight, hidden.bias and predict.weight, [cells, hidden] each, then predict.bias [cells].
            ledger.RecordTargets(steps, c =>
            {
                var all = weights.AsSpan();
                return full!.Of(all.Slice(c * hidden, hidden), all.Slice((n + c) * hidden, hidden), all.Slice((2 * n + c) * hidden, hidden), all[3 * n * hidden + c], scratch);
            });
        }

        /// <summary>
        /// The tensor's numbers as doubles, read from its bytes into an array made once (a step allocates nothing
        /// that outlives it, and a float32 tensor needs no conversion on the device first).
        /// </summary>
        private static void ReadInto(double[] values, Tensor t)
        {
            using var host = t.device_type == TorchSharp.DeviceType.CPU ? null : t.cpu();
            var bytes = (host ?? t).bytes;
            if (t.dtype == ScalarType.Float32)
            {
                var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes);
                for (int i = 0; i < values.Length; i++) values[i] = floats[i];
            }
            else System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(bytes).CopyTo(values);
        }

        private void Freeze()
        {
            var (oldLr, oldMomentum, oldFrozen) = (lr, momentum, frozen);
            lr = PerElement(c => ledger.Stopped(c) ? 0 : cells[c].Lr);
            momentum = PerElement(c => ledger.Stopped(c) ? 0 : cells[c].Momentum);
            using (var isFrozen = tensor(Enumerable.Range(0, cells.Length).Select(ledger.Stopped).ToArray(), device: x.device))
                frozen = net.PerElement(isFrozen).DetachFromDisposeScope();
            bucket.FlatState.masked_fill_(frozen, 0);
            oldLr.Dispose();
            oldMomentum.Dispose();
            oldFrozen?.Dispose();
        }

        public CellLedger Ledger => ledger;

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

/// <summary>A chunk of a sweep's cells that share a seed and a batch size, trained an epoch at a time by one engine.</summary>
internal interface ISweepChunk : IDisposable
{
    /// <summary>Trains epoch <paramref name="epoch"/> (up to the chunk's budget), telling <paramref name="onSteps"/> the cell-steps done.</summary>
    void TrainEpoch(int epoch, Action<int>? onSteps, CancellationToken cancel);

    /// <summary>What its cells have measured so far.</summary>
    CellLedger Ledger { get; }
}

/// <summary>
/// Told at the end of every epoch of a sweep (0-based <paramref name="epoch"/>): each cell's mean loss of that epoch,
/// at the cell's place in the shard (in id order: the shard's cells are every shard-count-th id), NaN for a cell that did not train all of it
/// (it diverged, its budget ended before it, or its chunk stopped). Read it before returning: the span is reused.
/// </summary>
public delegate void EpochLossesHandler(int epoch, ReadOnlySpan<double> lossByCell);
