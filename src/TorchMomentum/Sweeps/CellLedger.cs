using TorchMomentum.Training;

namespace TorchMomentum.Sweeps;

/// <summary>
/// What a chunk of cells has measured so far, whichever engine trains it: each cell's epoch losses, last loss, the
/// step it diverged at, the steps it has trained and the steps it took to each target. A cell that diverged or has
/// reached every target is <see cref="Stopped"/>: the engine freezes it (lr, momentum, velocity and gradient 0), and
/// its results end there. What a cell records depends on its own numbers alone, never on the chunk it is in.
/// </summary>
internal sealed class CellLedger
{
    private readonly SweepCell[] cells;
    private readonly ExperimentSettings settings;
    private readonly IReadOnlyList<double> targets;
    private readonly double[][] epochLosses;
    private readonly double[] epochSum, finalLoss;
    private readonly int[] diverged, trained;
    private readonly int?[][] reached;
    private readonly bool[] stopped; // kept, not worked out: the engines ask every step, for every cell
    private int stoppedCount;

    public CellLedger(SweepCell[] cells, ExperimentSettings settings, IReadOnlyList<double> targets)
    {
        this.cells = cells;
        this.settings = settings;
        this.targets = targets;
        epochLosses = cells.Select(_ => new double[settings.Epochs]).ToArray();
        epochSum = new double[cells.Length];
        finalLoss = new double[cells.Length];
        diverged = Enumerable.Repeat(-1, cells.Length).ToArray();
        trained = new int[cells.Length];
        reached = cells.Select(_ => new int?[targets.Count]).ToArray();
        stopped = new bool[cells.Length];
    }

    private void Stop(int c)
    {
        if (stopped[c]) return;
        stopped[c] = true;
        stoppedCount++;
    }

    /// <summary>How many cells.</summary>
    public int Count => cells.Length;

    /// <summary>Whether cell <paramref name="c"/> trains no more: it diverged, or reached every target.</summary>
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
    /// Notes the targets each training cell's full-data loss has reached after <paramref name="steps"/> steps
    /// (<paramref name="lossOf"/> gives cell c's); true when a cell has now reached them all (and must be frozen).
    /// </summary>
    public bool RecordTargets(int steps, Func<int, double> lossOf)
    {
        bool done = false;
        for (int c = 0; c < cells.Length; c++)
        {
            if (Stopped(c)) continue;
            double loss = lossOf(c);
            bool all = true;
            for (int t = 0; t < targets.Count; t++)
            {
                if (reached[c][t] is null && loss <= targets[t]) reached[c][t] = steps;
                all &= reached[c][t] is not null;
            }
            if (all && targets.Count > 0)
            {
                Stop(c);
                done = true;
            }
        }
        return done;
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

    /// <summary>Every cell's results after <paramref name="epochsDone"/> epochs (of the sweep's longest run).</summary>
    public IEnumerable<CellResult> Results(int epochsDone) => cells.Select((cell, c) =>
    {
        int epochs = Math.Min(Math.Min(epochsDone, settings.Epochs), trained[c] / settings.StepsPerEpoch);
        return diverged[c] < 0
            ? new CellResult(cell, epochLosses[c][..epochs], trained[c] > 0 ? finalLoss[c] : null, null, [.. reached[c]])
            : new CellResult(cell, epochLosses[c][..(diverged[c] / settings.StepsPerEpoch)], null, diverged[c], [.. reached[c]]);
    });
}
