using TorchMomentum.Sweeps;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// A sweep's tables: sweep.csv, one row per cell in id order, and epoch-losses.csv, every cell's mean loss per
/// epoch. Numbers in their shortest round-trip form, like losses.csv; a diverged cell's losses are empty cells, and
/// so are its steps to a target it never reached.
/// </summary>
public static class SweepCsv
{
    /// <summary>The per-cell table's name inside a run folder.</summary>
    public const string FileName = "sweep.csv";

    /// <summary>The per-epoch table's name inside a run folder.</summary>
    public const string EpochsFileName = "epoch-losses.csv";

    /// <summary>The column of a target's first touch: <c>steps_to_0.0124</c>, or <c>steps_to_excess_0.002</c> for a target above each seed's noise floor.</summary>
    public static string TargetColumn(SweepGrid grid, double target) => "steps_to_" + (grid.Excess.Count > 0 ? "excess_" : "") + CsvFile.Number(target);

    /// <summary>The column of a target's sustained hit: <c>sustained_steps_to_0.0124</c> (<see cref="Measure.Sustained"/>).</summary>
    public static string SustainedColumn(SweepGrid grid, double target) => "sustained_" + TargetColumn(grid, target);

    /// <summary>The per-epoch table's columns.</summary>
    public static readonly string[] EpochsHeader = ["cell", "epoch", "mean_loss"];

    /// <summary>
    /// Writes both tables into <paramref name="folder"/>, staged until it publishes them; <paramref name="results"/> are
    /// in id order. Without <paramref name="writeEpochs"/>, only sweep.csv (an <see cref="EpochLossesStream"/> wrote the other).
    /// </summary>
    public static void Write(RunFolder folder, SweepGrid grid, IReadOnlyList<CellResult> results, CancellationToken cancel, bool writeEpochs = true)
    {
        static string Optional(double? value) => value is { } v ? CsvFile.Number(v) : "";
        static string Steps(int? steps) => steps is { } s ? CsvFile.Number(s) : "";
        CsvFile.Write(folder.Staged(FileName), ["cell", "lr", "momentum", "batch_size", "seed", "label_noise", "effective_lr", "final_loss", "last_epoch_loss", "diverged_step",
                .. grid.TargetNames.Select(t => TargetColumn(grid, t)), .. grid.TargetNames.Select(t => SustainedColumn(grid, t))],
            results.Select(r => (string[])
            [
                CsvFile.Number(r.Cell.Id), CsvFile.Number(r.Cell.Lr), CsvFile.Number(r.Cell.Momentum), CsvFile.Number(r.Cell.BatchSize), CsvFile.Number(r.Cell.Seed),
                CsvFile.Number(r.Cell.LabelNoise), CsvFile.Number(r.Cell.EffectiveLr), Optional(r.FinalLoss), Optional(r.LastEpochLoss),
                r.DivergedStep is { } step ? CsvFile.Number(step) : "",
                .. r.StepsToTargets.Select(Steps), .. r.SustainedSteps.Select(Steps),
            ]), cancel);
        if (writeEpochs) WriteEpochs(folder.Staged(EpochsFileName), results, cancel);
    }

    /// <summary>
    /// Writes epoch-losses.csv from a whole sweep's results (id order): long form, one row per cell and epoch it
    /// finished (a diverged cell has rows for the epochs before it diverged), epoch by epoch, so that a sweep can write it
    /// as it trains (<see cref="EpochLossesStream"/>: the same bytes); it reads straight into a data frame.
    /// </summary>
    public static void WriteEpochs(string path, IReadOnlyList<CellResult> results, CancellationToken cancel) => CsvFile.WriteNumbers(path, EpochsHeader, rows =>
    {
        if (results.Where((r, i) => r.Cell.Id != i).Any()) throw new ArgumentException("a whole sweep's results, in id order", nameof(results));
        int epochs = results.Count == 0 ? 0 : results.Max(r => r.EpochLosses.Length);
        var losses = new double[results.Count];
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            for (int c = 0; c < results.Count; c++) losses[c] = epoch < results[c].EpochLosses.Length ? results[c].EpochLosses[epoch] : double.NaN;
            EpochRows(rows, epoch, losses);
        }
    }, cancel);

    /// <summary>One epoch's rows (0-based <paramref name="epoch"/>): cell c's loss at [c] (its id), none where NaN.</summary>
    public static void EpochRows(CsvFile.NumberRows rows, int epoch, ReadOnlySpan<double> lossByCell)
    {
        for (int c = 0; c < lossByCell.Length; c++)
            if (!double.IsNaN(lossByCell[c])) rows.Row(c, epoch + 1, lossByCell[c]);
    }
}
