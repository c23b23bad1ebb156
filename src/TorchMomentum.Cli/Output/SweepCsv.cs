using TorchMomentum.Sweeps;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// A sweep's tables: sweep.csv, one row per cell in id order, and epoch-losses.csv, every cell's mean loss per
/// epoch. Numbers in their shortest round-trip form, like losses.csv; a diverged cell's losses are empty cells.
/// </summary>
public static class SweepCsv
{
    /// <summary>The per-cell table's name inside a run folder.</summary>
    public const string FileName = "sweep.csv";

    /// <summary>The per-epoch table's name inside a run folder.</summary>
    public const string EpochsFileName = "epoch-losses.csv";

    /// <summary>Writes both tables into <paramref name="folder"/>, staged until it publishes them; <paramref name="results"/> are in id order.</summary>
    public static void Write(RunFolder folder, IReadOnlyList<CellResult> results, CancellationToken cancel)
    {
        static string Optional(double? value) => value is { } v ? CsvFile.Number(v) : "";
        CsvFile.Write(folder.Staged(FileName), ["cell", "lr", "momentum", "seed", "effective_lr", "final_loss", "last_epoch_loss", "diverged_step"],
            results.Select(r => new[]
            {
                CsvFile.Number(r.Cell.Id), CsvFile.Number(r.Cell.Lr), CsvFile.Number(r.Cell.Momentum), CsvFile.Number(r.Cell.Seed),
                CsvFile.Number(r.Cell.EffectiveLr), Optional(r.FinalLoss), Optional(r.LastEpochLoss),
                r.DivergedStep is { } step ? CsvFile.Number(step) : "",
            }), cancel);
        // Long form (one row per cell and epoch) reads straight into a data frame; a diverged cell has rows for the epochs it finished.
        CsvFile.Write(folder.Staged(EpochsFileName), ["cell", "epoch", "mean_loss"],
            results.SelectMany(r => r.EpochLosses.Select((loss, epoch) => new[] { CsvFile.Number(r.Cell.Id), CsvFile.Number(epoch + 1), CsvFile.Number(loss) })), cancel);
    }
}
