using System.Globalization;
using Spectre.Console;
using TorchMomentum.Sweeps;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// What a whole sweep writes and shows, the same after one process and after <c>sweep merge</c>: sweep.csv,
/// epoch-losses.csv, sweep.png, effective-lr.png, summary.json, and a short table of what the map says.
/// </summary>
public static class SweepOutputs
{
    /// <summary>Every file a whole sweep writes into its folder.</summary>
    public static readonly string[] Files = [SweepCsv.FileName, SweepCsv.EpochsFileName, SweepPlots.MapFileName, SweepPlots.EffectiveLrFileName, Summary.FileName];

    /// <summary>
    /// Writes every file beside its final name, then moves them into place together (<see cref="RunFolder.Publish(IAnsiConsole, string[])"/>),
    /// and prints the table; summary.json says how it was trained (<paramref name="run"/>, by <paramref name="shards"/>
    /// processes) beside what the map says. Until the move, a set
    /// <paramref name="cancel"/> stops the writing (<see cref="OperationCanceledException"/>) and the folder keeps
    /// what it held: a sweep's files are all of one run, or none.
    /// </summary>
    public static void Write(IAnsiConsole console, RunFolder folder, SweepGrid grid, IReadOnlyList<CellResult> results, int shards, SweepRun run, CancellationToken cancel)
    {
        var map = new SweepMap(grid, results);
        string mapFile = folder.Staged(SweepPlots.MapFileName), effectiveLrFile = folder.Staged(SweepPlots.EffectiveLrFileName), summaryFile = folder.Staged(Summary.FileName);
        var figures = Task.Run(() =>
        {
            SweepPlots.WriteMap(mapFile, map);
            SweepPlots.WriteEffectiveLr(effectiveLrFile, map);
        });
        try
        {
            SweepCsv.Write(folder, results, cancel);
        }
        finally
        {
            figures.GetAwaiter().GetResult(); // never a figure written after the folder has been let go
        }
        cancel.ThrowIfCancellationRequested();
        Print(console, map);
        SweepSummary.Of(map, shards, run).Write(summaryFile);
        cancel.ThrowIfCancellationRequested();
        folder.Publish(console, Files);
    }

    /// <summary>The table: the best point, the best plain SGD, the chapter's point and plain SGD at its effective lr, and how many cells diverged.</summary>
    private static void Print(IAnsiConsole console, SweepMap map)
    {
        static string N(double value) => value.ToString("G3", CultureInfo.InvariantCulture);
        var table = new Table().Border(TableBorder.Rounded).Title($"What the map says ({map.Grid.CellCount} cells, median over {map.Grid.Seeds.Count} seed(s))");
        table.AddColumns("point", "lr", "momentum", "lr/(1-m)", "last epoch's loss");
        void Row(string what, MapPoint? p)
        {
            if (p is null) table.AddRow(what, "-", "-", "-", "(not in the grid)");
            else table.AddRow(what, N(p.Lr), N(p.Momentum), N(p.EffectiveLr), p.Diverged ? "diverged" : N(p.MedianLoss));
        }
        Row("best", map.Best);
        Row("best plain SGD (momentum 0)", map.BestPlainSgd);
        Row("nearest the chapter's (0.01, 0.8)", map.NearestChapter);
        Row("plain SGD nearest lr 0.05 = 0.01/(1-0.8)", map.PlainSgdAtChapterEffectiveLr);
        console.Write(table);
        console.MarkupLineInterpolated($"{map.DivergedCells} of {map.Grid.CellCount} cells diverged (their loss became NaN or infinite; each was frozen there).");
    }
}
