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
    /// <summary>Every file a whole sweep writes into its folder, with targets (<see cref="ScalingOutputs"/>) or without.</summary>
    public static readonly string[] Files = [SweepCsv.FileName, SweepCsv.EpochsFileName, SweepPlots.MapFileName, SweepPlots.EffectiveLrFileName, Summary.FileName, .. ScalingOutputs.Files];

    /// <summary>The files a sweep of <paramref name="grid"/> writes.</summary>
    public static string[] FilesOf(SweepGrid grid) => grid.Targets.Count > 0 ? Files : Files[..^ScalingOutputs.Files.Length];

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
        var study = grid.Targets.Count > 0 ? new ScalingStudy(grid, results) : null;
        var noise = study?.NoiseScales() ?? new Dictionary<Family, IReadOnlyList<NoiseScaleAt>>();
        var predicted = study?.QuadraticModel()?.Predicted ?? [];
        double sharpness = ChapterSharpness(grid);
        string mapFile = folder.Staged(SweepPlots.MapFileName), effectiveLrFile = folder.Staged(SweepPlots.EffectiveLrFileName), summaryFile = folder.Staged(Summary.FileName);
        var scalingFiles = study is null ? null : ScalingOutputs.Files.Select(folder.Staged).ToArray();
        var figures = Task.Run(() =>
        {
            SweepPlots.WriteMap(mapFile, map);
            SweepPlots.WriteEffectiveLr(effectiveLrFile, map, sharpness);
            if (study is not null) ScalingOutputs.WriteFigures(scalingFiles![1], scalingFiles[2], scalingFiles[3], study, noise, predicted);
        });
        try
        {
            SweepCsv.Write(folder, grid, results, cancel);
            if (study is not null) ScalingOutputs.WriteCsv(scalingFiles![0], study, predicted, cancel);
        }
        finally
        {
            figures.GetAwaiter().GetResult(); // never a figure written after the folder has been let go
        }
        cancel.ThrowIfCancellationRequested();
        Print(console, map);
        if (study is not null) PrintStudy(console, study, noise);
        SweepSummary.Of(map, study, noise, shards, run).Write(summaryFile);
        cancel.ThrowIfCancellationRequested();
        folder.Publish(console, FilesOf(grid));
    }

    /// <summary>
    /// The largest lambda_max of the momentum net along the chapter's run (train's defaults, on the sweep's data and net
    /// shape, its first seed, every epoch): where section 5.2 puts plain SGD's wall, 2/lambda_max, and heavy ball's,
    /// 2(1 + m)/lambda_max, which effective-lr.png marks.
    /// </summary>
    private static double ChapterSharpness(SweepGrid grid)
    {
        // The cells' net: train's momentum column, drawn after net_SGD as the default race draws it.
        var chapter = grid.Training with { Seed = grid.Seeds[0], LearningRate = SweepMap.Chapter.Lr, Momentum = SweepMap.Chapter.Momentum, Contestants = Training.ContestantNames.Default };
        return Curvature.CurvatureAlongRun.Measure(chapter, chapter.StepsPerEpoch, top: 1).Where(p => p.Contestant == Training.ContestantNames.Momentum).Max(p => p.LambdaMax);
    }

    /// <summary>The study's table: per batch size and target, the best steps of plain SGD and of momentum, and the speed-up.</summary>
    private static void PrintStudy(IAnsiConsole console, ScalingStudy study, IReadOnlyDictionary<Family, IReadOnlyList<NoiseScaleAt>> noise)
    {
        static string Steps(BestSetting? b) => b is null ? "-" : b.Reached ? $"{b.Steps:0.#} (lr {b.Lr:G3}{(b.Family == Family.Momentum ? $", m {b.Momentum:0.##}" : "")}{(b.OnGridEdge ? ", edge" : "")})" : "not reached";
        var table = new Table().Border(TableBorder.Rounded).Title($"Steps to each target, best of each family, median over {study.Grid.Seeds.Count} seed(s)");
        table.AddColumns("batch", "target", "plain SGD", "momentum", "speed-up");
        foreach (var group in study.Best.GroupBy(b => (b.BatchSize, b.Target)))
        {
            double speedUp = study.SpeedUp(group.Key.BatchSize, group.Key.Target);
            table.AddRow(group.Key.BatchSize.ToString(CultureInfo.InvariantCulture), Shown.Number(group.Key.Target),
                Markup.Escape(Steps(group.FirstOrDefault(b => b.Family == Family.PlainSgd))), Markup.Escape(Steps(group.FirstOrDefault(b => b.Family == Family.Momentum))),
                double.IsFinite(speedUp) ? speedUp.ToString("0.00", CultureInfo.InvariantCulture) : "-");
        }
        console.Write(table);
        for (int t = 0; t < study.Grid.Targets.Count; t++)
        {
            double target = study.Grid.Targets[t];
            string Critical(Family f) => study.CriticalBatchSize(f, target) is { } b ? b.ToString("0.#", CultureInfo.InvariantCulture) : "beyond the grid";
            string Noise(Family f) => noise.TryGetValue(f, out var along) && along[t].NoiseScale is { } b ? b.ToString("0.##", CultureInfo.InvariantCulture) : "-";
            console.MarkupLineInterpolated($"Target {Shown.Number(target)}: critical batch size (steps 20% above perfect scaling) plain SGD {Critical(Family.PlainSgd)}, momentum {Critical(Family.Momentum)}; gradient noise scale B_noise there: {Noise(Family.PlainSgd)} and {Noise(Family.Momentum)}.");
        }
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
