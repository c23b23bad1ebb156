using TorchMomentum.Model;
using System.Numerics;
using TorchMomentum.Data;
using TorchMomentum.Devices;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Sweeps;

/// <summary>
/// A chunk of cells that share a seed and a batch size, trained by <see cref="FusedStep"/> (the fused engine): the
/// same loop as the torch engine's chunk, on the same batches (the seed's permutation per epoch, replayed from its
/// generator once for all its chunks: <see cref="EpochOrderReplay"/>), each step one pass per group of lanes. Cells
/// are padded to whole groups with copies of the first cell at lr 0, whose results are never read.
/// </summary>
/// <typeparam name="T">float or double, the sweep's dtype.</typeparam>
internal sealed class FusedChunk<T> : ISweepChunk where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly SweepCell[] cells;
    private readonly ExperimentSettings settings;
    private readonly int budget, groups, lanes, parameters;
    private readonly bool scalar;
    private readonly FullDataLoss? full;
    private readonly CellLedger ledger;
    private readonly T[] x, y, lr, momentum, derived, frozen, batchX, batchY, groupLoss;
    private readonly FusedFamily family;
    private readonly double[][]? knobs;
    private readonly int derivedBlocks, states;
    private readonly ArraySegment<T> weights, velocities, scratch; // what the kernel reads as vectors, cache-aligned
    private readonly T[]? averages; // the EMA family's average of each cell's weights, laid out as the weights
    private int averaged;
    private readonly double[]? lrMax, weightSum; // schedule-free's schedule, a cell's own
    private readonly double[] losses, cellWeights, fullScratch;
    private readonly EpochOrderReplay orders;
    private readonly long[] order; // the epoch's permutation, into one array (a step or an epoch allocates nothing)

    /// <param name="cells">Its cells, of one seed and batch size.</param>
    /// <param name="start">The seed's run: its data and the momentum net's initial weights, every cell's start.</param>
    /// <param name="orders">The seed's batch order, replayed.</param>
    /// <param name="settings">The cells' shared run settings.</param>
    /// <param name="budget">Steps each cell trains.</param>
    /// <param name="ledger">What the cells measure.</param>
    /// <param name="full">The full-data loss, with targets; null without.</param>
    /// <param name="scalar">Take the kernel's scalar path.</param>
    /// <param name="family">The update its cells step by; heavy ball unless told (<see cref="FusedFamily"/>).</param>
    /// <param name="knobs">Each cell's knobs beyond lr and momentum where <paramref name="family"/> has them (QHM's nu, Lion's beta2, the EMA's decay; AccSGD's kappa, xi and c); the cell's Momentum is its beta.</param>
    public FusedChunk(SweepCell[] cells, ChapterRun start, EpochOrderReplay orders, ExperimentSettings settings, int budget, CellLedger ledger, FullDataLoss? full, bool scalar,
        FusedFamily family = FusedFamily.HeavyBall, IReadOnlyList<double[]>? knobs = null)
    {
        this.family = family;
        this.cells = cells;
        this.settings = settings;
        this.budget = budget;
        this.full = full;
        this.scalar = scalar;
        this.ledger = ledger;
        lanes = FusedStep.Lanes<T>();
        groups = (cells.Length + lanes - 1) / lanes;
        parameters = Model.Net.ParameterCount(settings.Hidden);
        this.orders = orders;
        (x, y) = (Read(start.Data.X), Read(start.Data.Y));
        // The cells' initial weights: train's momentum net, the same for every cell of the seed.
        var net = NetWeights.Of(start.MomentumNet);
        double[] initial = [.. net.W1, .. net.B1, .. net.W2, net.B2];
        weights = FusedStep.CacheAligned<T>(groups * parameters * lanes);
        // A group's state: its family's buffers one after the other, each laid out as the group's weights.
        states = FusedUpdates.States(family);
        velocities = FusedStep.CacheAligned<T>(weights.Count * states);
        for (int g = 0; g < groups; g++)
            for (int k = 0; k < parameters; k++)
                for (int lane = 0; lane < lanes; lane++) weights[(g * parameters + k) * lanes + lane] = T.CreateTruncating(initial[k]);
        lr = new T[groups * lanes];
        momentum = new T[groups * lanes];
        frozen = new T[groups * lanes];
        for (int c = 0; c < cells.Length; c++) (lr[c], momentum[c]) = (T.CreateTruncating(cells[c].Lr), T.CreateTruncating(cells[c].Momentum));
        this.knobs = knobs?.ToArray();
        derivedBlocks = FusedUpdates.Knobs(family);
        derived = new T[groups * lanes * derivedBlocks];
        for (int c = 0; c < cells.Length; c++) Derive(c, cells[c].Lr, cells[c].Momentum);
        // The average starts as a copy of the weights, as AveragedModel's module does (its first update copies them again).
        if (family == FusedFamily.Ema) averages = [.. weights];
        // AccSGD's running point w and schedule-free's z and x start as the weights, as their references' state does (the others' at 0).
        if (family is FusedFamily.AccSgd or FusedFamily.ScheduleFree)
            for (int g = 0; g < groups; g++)
                for (int b = 0; b < states; b++) weights.AsSpan(g * parameters * lanes, parameters * lanes).CopyTo(velocities.AsSpan((g * states + b) * parameters * lanes));
        // Schedule-free's schedule: its running lr_max and weight sum, a cell's own, from 0.
        if (family == FusedFamily.ScheduleFree) (lrMax, weightSum) = (new double[cells.Length], new double[cells.Length]);
        batchX = new T[settings.BatchSize];
        batchY = new T[settings.BatchSize];
        scratch = FusedStep.CacheAligned<T>(checked((int)FusedStep.ScratchLength<T>(settings.Hidden, settings.BatchSize))); // SweepGrid.Problem bounds it
        order = new long[x.Length];
        groupLoss = new T[lanes];
        losses = new double[cells.Length];
        cellWeights = new double[parameters];
        fullScratch = new double[2 * settings.Hidden];
        WarmUp.Value.GetHashCode();
    }

    /// <summary>
    /// One step of a tiny group on both paths, once a process: the kernel is compiled during set-up, not in the first
    /// step of training (a few tens of milliseconds, a sixth of the default sweep's training).
    /// </summary>
    private static readonly Lazy<bool> WarmUp = new(() =>
    {
        int l = FusedStep.Lanes<T>(), hidden = 2, p = Model.Net.ParameterCount(hidden);
        var weights = new T[p * l];
        var velocities = new T[p * l];
        var lanes = new T[l];
        var batch = new T[1];
        var scratch = new T[(2 + hidden) * l];
        foreach (bool scalar in new[] { false, true })
            FusedStep.Step<T>(weights, velocities, lanes, lanes, lanes, batch, batch, hidden, scratch, new T[l], scalar);
        // And the step loop around it and its bookkeeping, compiled before the clock of the first step starts.
        System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(typeof(FusedChunk<T>).GetMethod(nameof(TrainEpoch))!.MethodHandle, [typeof(T).TypeHandle]);
        System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(typeof(CellLedger).GetMethod(nameof(CellLedger.RecordStep))!.MethodHandle);
        return true;
    });

    /// <summary>A [samples, 1] tensor's numbers as T: float32 data as drawn, converted as the torch engine converts it.</summary>
    private T[] Read(Tensor t)
    {
        using var host = t.to(settings.DType == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32, CPU).contiguous();
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(host.bytes).ToArray();
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void TrainEpoch(int epoch, Action<int>? onSteps, CancellationToken cancel)
    {
        int n = cells.Length, first = epoch * settings.StepsPerEpoch;
        if (first >= budget || ledger.AllStopped) return;
        orders.CopyTo(epoch, order);
        for (int b = 0, step = first; b < settings.StepsPerEpoch && step < budget; b++, step++)
        {
            cancel.ThrowIfCancellationRequested();
            int from = b * settings.BatchSize, size = Math.Min(settings.BatchSize, x.Length - from);
            for (int i = 0; i < size; i++) (batchX[i], batchY[i]) = (x[order[from + i]], y[order[from + i]]);
            if (lrMax is not null) Schedule(step);
            for (int g = 0; g < groups; g++)
            {
                int at = g * parameters * lanes;
                FusedStep.Step<T>(family, weights.AsSpan(at, parameters * lanes), velocities.AsSpan(at * states, parameters * lanes * states), lr.AsSpan(g * lanes, lanes),
                    momentum.AsSpan(g * lanes, lanes), derived.AsSpan(g * lanes * derivedBlocks, lanes * derivedBlocks), frozen.AsSpan(g * lanes, lanes), batchX.AsSpan(0, size), batchY.AsSpan(0, size), settings.Hidden,
                    scratch, groupLoss, scalar);
                for (int lane = 0; lane < lanes && g * lanes + lane < n; lane++)
                    losses[g * lanes + lane] = averages is null ? double.CreateTruncating(groupLoss[lane]) : AverageLoss(g, lane, size);
            }
            // A cell whose loss is NaN or infinite is frozen from this step on (the step just taken moved it, where the
            // torch engine's did not: its results end at the step before, so its weights are never read again).
            if (ledger.RecordStep(step, losses)) Freeze();
            if (averages is not null) Average();
            if (full is not null) MeasureTargets(step + 1);
            if (ledger.StepDone(step, budget, onSteps)) break;
        }
        ledger.EndEpoch(epoch);
    }

    /// <summary>
    /// The EMA family's average after a step, as <see cref="Optimizers.AveragedModel.UpdateParameters"/> takes it: the
    /// first a copy of the weights, then a = a decay + p (1 - decay), decay and 1 - decay each cell's own (derived in float64).
    /// </summary>
    private void Average()
    {
        var a = averages!;
        if (averaged++ == 0)
        {
            weights.AsSpan().CopyTo(a);
            return;
        }
        for (int g = 0; g < groups; g++)
            for (int k = 0; k < parameters; k++)
                for (int lane = 0; lane < lanes; lane++)
                {
                    int at = (g * parameters + k) * lanes + lane;
                    T decay = derived[(g * derivedBlocks) * lanes + lane], rest = derived[(g * derivedBlocks + 1) * lanes + lane];
                    a[at] = a[at] * decay + weights[at] * rest;
                }
    }

    /// <summary>
    /// The EMA family's reported loss, as train reports it: the average's loss on the batch before the step
    /// (<see cref="NetMath"/>'s forward in float64, the batch's mean squared error).
    /// </summary>
    private double AverageLoss(int g, int lane, int size)
    {
        for (int k = 0; k < parameters; k++) cellWeights[k] = double.CreateTruncating(averages![(g * parameters + k) * lanes + lane]);
        double sum = 0;
        for (int b = 0; b < size; b++)
        {
            double e = NetMath.Output(cellWeights, settings.Hidden, double.CreateTruncating(batchX[b])) - double.CreateTruncating(batchY[b]);
            sum += e * e;
        }
        return sum / size;
    }

    /// <summary>
    /// Schedule-free's lr_k and c for step <paramref name="step"/>, each training cell's from its own schedule
    /// (<see cref="Optimizers.ScheduleFreeSgd.Schedule"/>, as its optimizer's group takes it), into its derived blocks:
    /// lr_k, 1 - c, c, beta, 1 - beta. A frozen cell keeps the zeros it froze with.
    /// </summary>
    private void Schedule(int step)
    {
        for (int c = 0; c < cells.Length; c++)
        {
            if (frozen[c] != T.Zero) continue;
            var knob = knobs![c];
            (double rate, lrMax![c], weightSum![c], double mix) = Optimizers.ScheduleFreeSgd.Schedule(step, cells[c].Lr, knob[0], knob[1], knob[2], lrMax[c], weightSum[c]);
            int g = c / lanes, lane = c % lanes;
            double beta = cells[c].Momentum;
            double[] values = [rate, 1 - mix, mix, beta, 1 - beta];
            for (int b = 0; b < derivedBlocks; b++) derived[(g * derivedBlocks + b) * lanes + lane] = T.CreateTruncating(values[b]);
        }
    }

    /// <summary>Each training cell's full-data loss, at the weights it is judged at: its own, the EMA family's average of them, or schedule-free's x.</summary>
    private void MeasureTargets(int steps) => ledger.RecordTargets(steps, c =>
    {
        int g = c / lanes, lane = c % lanes;
        for (int k = 0; k < parameters; k++)
            cellWeights[k] = double.CreateTruncating(averages is not null ? averages[(g * parameters + k) * lanes + lane]
                : lrMax is not null ? velocities[((g * states + 1) * parameters + k) * lanes + lane] // x, the second buffer
                : weights[(g * parameters + k) * lanes + lane]);
        int h = settings.Hidden;
        return full!.Of(cellWeights.AsSpan(0, h), cellWeights.AsSpan(h, h), cellWeights.AsSpan(2 * h, h), cellWeights[3 * h], fullScratch);
    });

    private void Freeze()
    {
        for (int c = 0; c < cells.Length; c++)
        {
            if (!ledger.Stopped(c) || frozen[c] != T.Zero) continue;
            frozen[c] = BitsSet();
            (lr[c], momentum[c]) = (T.Zero, T.Zero);
            Derive(c, 0, 0);
            int g = c / lanes, lane = c % lanes;
            for (int k = 0; k < parameters * states; k++) velocities[(g * parameters * states + k) * lanes + lane] = T.Zero;
        }
    }

    /// <summary>Cell c's numbers derived from its knobs (<see cref="FusedUpdates.Derive"/>), into its group's blocks at its lane.</summary>
    private void Derive(int c, double cellLr, double cellMomentum)
    {
        if (derivedBlocks == 0) return;
        Span<double> values = stackalloc double[derivedBlocks];
        FusedUpdates.Derive(family, cellLr, cellMomentum, knobs is null ? [] : knobs[c], values);
        int g = c / lanes, lane = c % lanes;
        for (int b = 0; b < derivedBlocks; b++) derived[(g * derivedBlocks + b) * lanes + lane] = T.CreateTruncating(values[b]);
    }

    /// <summary>A T with every bit set: the vector path's select mask.</summary>
    private static T BitsSet()
    {
        if (typeof(T) == typeof(float)) return (T)(object)BitConverter.Int32BitsToSingle(-1);
        return (T)(object)BitConverter.Int64BitsToDouble(-1L);
    }

    public CellLedger Ledger => ledger;

    public void Dispose() { }
}
