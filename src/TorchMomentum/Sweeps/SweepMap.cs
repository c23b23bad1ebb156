namespace TorchMomentum.Sweeps;

/// <summary>One point of the (learning rate, momentum) map: its cells of every seed, summed up.</summary>
/// <param name="Lr">Learning rate.</param>
/// <param name="Momentum">Momentum (0 is plain SGD).</param>
/// <param name="MedianLoss">The median over seeds of the last epoch's mean loss, a diverged seed counting as +infinity; infinite when at least half diverged; NaN when no seed finished an epoch (nothing to map).</param>
/// <param name="DivergedSeeds">How many of its seeds diverged.</param>
public sealed record MapPoint(double Lr, double Momentum, double MedianLoss, int DivergedSeeds)
{
    /// <summary>lr / (1 - momentum), as <see cref="SweepCell.EffectiveLr"/>.</summary>
    public double EffectiveLr => Theory.ConstantGradientVelocity.Limit(Lr, Momentum, g: 1);

    /// <summary>Whether the point counts as diverged on the map (its median is infinite).</summary>
    public bool Diverged => double.IsPositiveInfinity(MedianLoss);

    /// <summary>Whether the point has a finite loss to show (not diverged, and an epoch finished).</summary>
    public bool Measured => double.IsFinite(MedianLoss);
}

/// <summary>
/// What a whole sweep says, read off its cells: the map of median losses over (lr, momentum), and the points a
/// reader asks about first: the best, the best plain SGD, the chapter's (lr 0.01, momentum 0.8, section 5.6) and
/// plain SGD at the chapter's effective learning rate 0.05. A map is of one batch size (<see cref="BatchSize"/>):
/// the chapter's 32 when the grid has it, else its first.
/// </summary>
public sealed class SweepMap
{
    /// <summary>The chapter's learning rate and momentum (section 5.6).</summary>
    public static readonly (double Lr, double Momentum) Chapter = (0.01, 0.8);

    /// <summary>The map of a complete sweep; <paramref name="results"/> holds every cell of <paramref name="grid"/> once.</summary>
    public SweepMap(SweepGrid grid, IReadOnlyList<CellResult> results)
    {
        Grid = grid;
        Rates = grid.LearningRates();
        Momenta = grid.Momenta();
        BatchSize = grid.CellBatchSizes.Contains(grid.Training.BatchSize) ? grid.Training.BatchSize : grid.CellBatchSizes[0];
        var byPoint = results.Where(r => r.Cell.BatchSize == BatchSize).GroupBy(r => r.Cell.Id % (grid.LrCount * grid.MomentumCount)).ToDictionary(g => g.Key, g => g.ToArray());
        Points = new MapPoint[Momenta.Length, Rates.Length];
        for (int m = 0; m < Momenta.Length; m++)
            for (int l = 0; l < Rates.Length; l++)
            {
                var cells = byPoint[m * Rates.Length + l];
                // A diverged seed counts as infinity; one that finished no epoch (a budget shorter than an epoch) has no loss to count.
                var losses = cells.Where(c => c.DivergedStep is not null || c.LastEpochLoss is not null)
                    .Select(c => c.LastEpochLoss ?? double.PositiveInfinity).Order().ToArray();
                double median = losses.Length == 0 ? double.NaN
                    : losses.Length % 2 == 1 ? losses[losses.Length / 2] : (losses[losses.Length / 2 - 1] + losses[losses.Length / 2]) / 2;
                Points[m, l] = new MapPoint(Rates[l], Momenta[m], median, cells.Count(c => c.DivergedStep is not null));
            }
        DivergedCells = results.Count(r => r.DivergedStep is not null);
    }

    /// <summary>The sweep's grid.</summary>
    public SweepGrid Grid { get; }

    /// <summary>The batch size of the map's cells.</summary>
    public int BatchSize { get; }

    /// <summary>The learning rates, the map's columns.</summary>
    public double[] Rates { get; }

    /// <summary>The momenta, the map's rows.</summary>
    public double[] Momenta { get; }

    /// <summary>Points[momentum index, lr index].</summary>
    public MapPoint[,] Points { get; }

    /// <summary>Cells (of any seed and batch size) that diverged.</summary>
    public int DivergedCells { get; }

    private IEnumerable<MapPoint> All => Points.Cast<MapPoint>();

    /// <summary>The point of lowest median loss; null when every point diverged.</summary>
    public MapPoint? Best => All.Where(p => p.Measured).MinBy(p => p.MedianLoss);

    /// <summary>The best point with momentum 0 (plain SGD); null when the grid has no momentum 0 or all of it diverged.</summary>
    public MapPoint? BestPlainSgd => All.Where(p => p.Momentum == 0 && p.Measured).MinBy(p => p.MedianLoss);

    /// <summary>The point nearest the chapter's (lr by ratio, momentum by difference).</summary>
    public MapPoint NearestChapter => Nearest(All, Chapter.Lr, Chapter.Momentum);

    /// <summary>
    /// The plain-SGD point nearest the chapter's effective learning rate, 0.01 / (1 - 0.8) = 0.05: the "bigger step"
    /// that momentum is measured against. Null without momentum 0 in the grid.
    /// </summary>
    public MapPoint? PlainSgdAtChapterEffectiveLr =>
        Momenta.Contains(0) ? Nearest(All.Where(p => p.Momentum == 0), Theory.ConstantGradientVelocity.Limit(Chapter.Lr, Chapter.Momentum, g: 1), 0) : null;

    private static MapPoint Nearest(IEnumerable<MapPoint> points, double lr, double momentum) =>
        points.MinBy(p => Math.Abs(Math.Log(p.Lr / lr)) + Math.Abs(p.Momentum - momentum))!;
}
