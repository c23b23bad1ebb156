namespace TorchMomentum.Training;

/// <summary>
/// What a report and a plot need of a run's per-step losses, in memory that does not grow with the number of
/// steps beyond one row per epoch: each epoch's mean loss (accumulated as steps arrive), the last step's
/// losses, and a sample of steps for plotting, every step while there are at most <see cref="MaxSampled"/>
/// and then every 2nd, 4th, ... step. The whole record of every step is losses.csv.
/// </summary>
public sealed class LossHistory
{
    /// <summary>The most steps kept for plotting.</summary>
    public const int MaxSampled = 8192;

    private readonly ExperimentSettings settings;
    private readonly int contestants;
    private readonly List<double[]> epochMeans = [];
    // The sample lives in arrays made once. Kept in arrays of their own, sampled steps' losses outlived the young
    // collections and, dropped when the sample thins, grew the oldest generation by about 10 bytes a step: over
    // 100,000 steps, another GC region of resident memory.
    private readonly int[] sampledSteps = new int[MaxSampled + 1];
    private readonly double[] sampledLosses;
    private int sampledCount;
    private double[] epochSum;
    private int stride = 1;

    /// <summary>An empty history of a run with these settings (they give the batch sizes that weight the means).</summary>
    public LossHistory(ExperimentSettings settings, int contestants)
    {
        this.settings = settings;
        this.contestants = contestants;
        epochSum = new double[contestants];
        sampledLosses = new double[(MaxSampled + 1) * contestants];
    }

    /// <summary>Steps recorded so far.</summary>
    public int Steps { get; private set; }

    /// <summary>
    /// Per complete epoch, each contestant's mean loss over the epoch's samples: batches weighted by their
    /// size, since an epoch's last batch may be smaller.
    /// </summary>
    public IReadOnlyList<double[]> EpochMeanLosses => epochMeans;

    /// <summary>The last step's losses, or null before the first step.</summary>
    public double[]? LastStepLosses { get; private set; }

    /// <summary>The steps kept for plotting, in order: all of them, or every <c>2^k</c>-th for long runs (a new list each time).</summary>
    public IReadOnlyList<(int Step, double[] Losses)> Sampled =>
        Enumerable.Range(0, sampledCount).Select(i => (sampledSteps[i], sampledLosses[(i * contestants)..((i + 1) * contestants)])).ToList();

    /// <summary>Records the next step's losses (steps arrive in order, from 0).</summary>
    public void Add(double[] losses)
    {
        int step = Steps++;
        int size = settings.BatchSizeOf(step);
        for (int i = 0; i < losses.Length; i++) epochSum[i] += losses[i] * size;
        if (step % settings.StepsPerEpoch == settings.StepsPerEpoch - 1)
        {
            epochMeans.Add(epochSum.Select(sum => sum / settings.Samples).ToArray());
            epochSum = new double[losses.Length];
        }
        LastStepLosses = losses;
        if (step % stride != 0) return;
        sampledSteps[sampledCount] = step;
        losses.CopyTo(sampledLosses, sampledCount * contestants);
        if (++sampledCount <= MaxSampled) return;
        // Full: keep every other sample. Which steps are kept depends only on how many there were.
        stride *= 2;
        int kept = 0;
        for (int i = 0; i < sampledCount; i++)
        {
            if (sampledSteps[i] % stride != 0) continue;
            sampledSteps[kept] = sampledSteps[i];
            Array.Copy(sampledLosses, i * contestants, sampledLosses, kept * contestants, contestants);
            kept++;
        }
        sampledCount = kept;
    }
}
