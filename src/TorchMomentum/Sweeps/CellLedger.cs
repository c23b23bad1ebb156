using TorchMomentum.Training;

namespace TorchMomentum.Sweeps;

/// <summary>
/// What a chunk of cells has measured so far, whichever engine trains it: each cell's epoch losses, last loss, the
/// step it diverged at, the steps it has trained, and with targets its full-data loss after every step and its steps
/// to each target (<see cref="StepsToTarget"/>). A cell that diverged is <see cref="Stopped"/>: the engine freezes it
/// (lr, momentum, velocity and gradient 0), and its results end there. A cell that reached its targets trains on to
/// its budget: whether the hit lasts, and the mean over seeds, need the whole curve. What a cell records depends on
/// its own numbers alone, never on the chunk it is in.
/// </summary>
internal sealed class CellLedger
{
    private readonly SweepCell[] cells;
    private readonly ExperimentSettings settings;
    private readonly IReadOnlyList<double> targets;
    private readonly double[][] epochLosses;
    private readonly double[] epochSum, finalLoss;
    private readonly int[] diverged, trained;
    private readonly StepsToTarget.Hits[][] hits;
    private readonly float[][] curves;
    private readonly double curveBelow;
    private readonly bool[] stopped; // kept, not worked out: the engines ask every step, for every cell
    private int stoppedCount;

    /// <param name="cells">The chunk's cells.</param>
    /// <param name="settings">Their shared run settings.</param>
    /// <param name="targets">The full-data losses to reach (their seed's own, above its noise floor or absolute).</param>
    /// <param name="budget">Steps a cell trains: the length of its loss curve.</param>
    /// <param name="curveBelow">What the curve keeps the loss above: the seed's noise floor when the targets are excesses over it, else 0.</param>
    public CellLedger(SweepCell[] cells, ExperimentSettings settings, IReadOnlyList<double> targets, int budget, double curveBelow = 0)
    {
        this.curveBelow = curveBelow;
        this.cells = cells;
        this.settings = settings;
        this.targets = targets;
        epochLosses = cells.Select(_ => new double[settings.Epochs]).ToArray();
        epochSum = new double[cells.Length];
        finalLoss = new double[cells.Length];
        diverged = Enumerable.Repeat(-1, cells.Length).ToArray();
        trained = new int[cells.Length];
        hits = cells.Select(_ => new StepsToTarget.Hits[targets.Count]).ToArray();
        // A diverged cell's curve stays infinite from there: above every target, and so is any mean it is part of.
        curves = cells.Select(_ => targets.Count == 0 ? [] : Enumerable.Repeat(float.PositiveInfinity, budget).ToArray()).ToArray();
        stopped = new bool[cells.Length];
    }

    private void Stop(int c)
    {
        if (stopped[c]) return;
        stopped[c] = true;
        stoppedCount++;
    }

    /// <summary>Whether cell <paramref name="c"/> trains no more: it diverged.</summary>
    public bool Stopped(int c) => stopped[c];

    /// <summary>Whether every cell has stopped.</summary>
    public bool AllStopped => stoppedCount == cells.Length;

    /// <summary>
    /// Records step <paramref name="step"/>'s batch losses (before its update) of the cells still training; true when
    /// a cell's loss was NaN or infinite, so that it must be frozen now.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public bool RecordStep(int step, ReadOnlySpan<double> losses)
    {
        int size = settings.BatchSizeOf(step);
        bool froze = false;
        for (int c = 0; c < cells.Length; c++)
        {
            if (Stopped(c)) continue;
            if (!double.IsFinite(losses[c]))
            {
                diverged[c] = step;
                Stop(c);
                froze = true;
                continue;
            }
            epochSum[c] += losses[c] * size;
            finalLoss[c] = losses[c];
            trained[c] = step + 1;
        }
        return froze;
    }

    /// <summary>
    /// Notes each training cell's full-data loss after <paramref name="steps"/> steps (<paramref name="lossOf"/> gives
    /// cell c's): its curve, and the targets it has hit.
    /// </summary>
    public void RecordTargets(int steps, Func<int, double> lossOf)
    {
        for (int c = 0; c < cells.Length; c++)
        {
            if (Stopped(c)) continue;
            double loss = lossOf(c);
            curves[c][steps - 1] = (float)(loss - curveBelow);
            for (int t = 0; t < targets.Count; t++) hits[c][t].Observe(steps, loss, targets[t]);
        }
    }

    /// <summary>
    /// Step <paramref name="step"/> is done: tells <paramref name="onSteps"/> the cell-steps it trained, and when every
    /// cell has stopped, the rest of the budget as done too (it will not be trained); true then, to end the loop.
    /// </summary>
    public bool StepDone(int step, int budget, Action<int>? onSteps)
    {
        onSteps?.Invoke(cells.Length);
        if (!AllStopped) return false;
        onSteps?.Invoke(cells.Length * (budget - step - 1));
        return true;
    }

    /// <summary>Ends epoch <paramref name="epoch"/>: its mean over its samples, as LossHistory takes it for train, for the cells that trained all of it.</summary>
    public void EndEpoch(int epoch)
    {
        int end = (epoch + 1) * settings.StepsPerEpoch;
        for (int c = 0; c < cells.Length; c++)
        {
            if (diverged[c] < 0 && trained[c] == end) epochLosses[c][epoch] = epochSum[c] / settings.Samples;
            epochSum[c] = 0;
        }
    }

    /// <summary>
    /// Each cell's mean loss of epoch <paramref name="epoch"/> (0-based, just ended) into <paramref name="lossByCell"/> at
    /// its place in its shard, (id - <paramref name="firstId"/>) / <paramref name="stride"/> (a shard's cells are every stride-th id); NaN where <see cref="Results"/> will have no such epoch for it (it diverged
    /// in or before it, or trained less of its budget).
    /// </summary>
    public void EpochLosses(int epoch, Span<double> lossByCell, long firstId, int stride)
    {
        for (int c = 0; c < cells.Length; c++)
            lossByCell[(int)((cells[c].Id - firstId) / stride)] = epoch < EpochsFinished(c) ? epochLosses[c][epoch] : double.NaN;
    }

    /// <summary>The epochs cell <paramref name="c"/> has trained whole: up to its budget, or those before the one it diverged in.</summary>
    private int EpochsFinished(int c) => diverged[c] < 0 ? Math.Min(settings.Epochs, trained[c] / settings.StepsPerEpoch) : diverged[c] / settings.StepsPerEpoch;

    /// <summary>Every cell's results after <paramref name="epochsDone"/> epochs (of the sweep's longest run).</summary>
    public IEnumerable<CellResult> Results(int epochsDone) => cells.Select((cell, c) =>
    {
        int?[] first = [.. hits[c].Select(h => h.First)], sustained = [.. hits[c].Select(h => h.Sustained)];
        return diverged[c] < 0
            ? new CellResult(cell, epochLosses[c][..Math.Min(epochsDone, EpochsFinished(c))], trained[c] > 0 ? finalLoss[c] : null, null, first, sustained, curves[c])
            : new CellResult(cell, epochLosses[c][..EpochsFinished(c)], null, diverged[c], first, sustained, curves[c]);
    });
}
