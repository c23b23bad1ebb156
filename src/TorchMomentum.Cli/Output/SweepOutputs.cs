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
    /// <summary>Every file a whole sweep may write into its folder: the tables and summary, the map's figures, the study's files (<see cref="ScalingOutputs"/>).</summary>
    public static readonly string[] Files = [SweepCsv.FileName, SweepCsv.EpochsFileName, Summary.FileName, SweepPlots.MapFileName, SweepPlots.EffectiveLrFileName, .. ScalingOutputs.Files];

    /// <summary>The files a sweep of <paramref name="grid"/> writes: the map's figures with a map, the study's with targets.</summary>
    public static string[] FilesOf(SweepGrid grid) =>
        [SweepCsv.FileName, SweepCsv.EpochsFileName, Summary.FileName, .. grid.HasMap ? [SweepPlots.MapFileName, SweepPlots.EffectiveLrFileName] : Array.Empty<string>(),
            .. grid.MeasuresSteps ? ScalingOutputs.Files : []];

    /// <summary>
    /// Writes every file beside its final name, then moves them into place together (<see cref="RunFolder.Publish(IAnsiConsole, string[])"/>),
    /// and prints the tables; summary.json says how it was trained (<paramref name="run"/>, by <paramref name="shards"/>
    /// processes) beside what the map and the study say. Until the move, a set
    /// <paramref name="cancel"/> stops the writing (<see cref="OperationCanceledException"/>) and the folder keeps
    /// what it held: a sweep's files are all of one run, or none. With <paramref name="epochsWritten"/>, epoch-losses.csv
    /// was written as the sweep trained: its last rows are waited for here rather than the whole file written.
    /// </summary>
    public static void Write(IAnsiConsole console, RunFolder folder, SweepGrid grid, IReadOnlyList<CellResult> results, int shards, SweepRun run, Task<double> sharpness,
        CancellationToken cancel, EpochLossesStream? epochsWritten = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var map = grid.HasMap ? new SweepMap(grid, results) : null;
        var study = grid.MeasuresSteps ? new ScalingStudy(grid, results) : null;
        // The study's extra tables (the noise scale, the quadratic model, a net trained for it) beside the sweep's tables and figures.
        var extrasTask = study is null ? Task.FromResult<IReadOnlyList<ScalingOutputs.Extras>>([]) : Task.Run(() => ScalingOutputs.Extras.Of(study));
        string summaryFile = folder.Staged(Summary.FileName);
        string? mapFile = map is null ? null : folder.Staged(SweepPlots.MapFileName), effectiveLrFile = map is null ? null : folder.Staged(SweepPlots.EffectiveLrFileName);
        var scalingFiles = study is null ? null : ScalingOutputs.Files.Select(folder.Staged).ToArray();
        var figures = Task.Run(() =>
        {
            if (map is not null)
            {
                SweepPlots.WriteMap(mapFile!, map);
                SweepPlots.WriteEffectiveLr(effectiveLrFile!, map, sharpness.GetAwaiter().GetResult());
            }
            if (study is not null) ScalingOutputs.WriteFigures(scalingFiles![1], scalingFiles[2], scalingFiles[3], scalingFiles[4], study);
        });
        try
        {
            epochsWritten?.Complete();
            SweepCsv.Write(folder, grid, results, cancel, writeEpochs: epochsWritten is null);
            if (study is not null) ScalingOutputs.WriteCsv(scalingFiles![0], study, extrasTask.GetAwaiter().GetResult(), cancel);
        }
        finally
        {
            figures.GetAwaiter().GetResult(); // never a figure written after the folder has been let go
            sharpness.GetAwaiter().GetResult();
        }
        cancel.ThrowIfCancellationRequested();
        var extras = extrasTask.GetAwaiter().GetResult();
        if (map is not null) Print(console, map);
        if (study is not null) PrintStudy(console, study, extras);
        SweepSummary.Of(grid, results, map, study, extras, shards, run, clock.Elapsed.TotalSeconds).Write(summaryFile);
        cancel.ThrowIfCancellationRequested();
        folder.Publish(console, FilesOf(grid));
    }

    /// <summary>
    /// Starts measuring the marks of effective-lr.png (<see cref="ChapterSharpness"/>; NaN for a sweep without a map) on
    /// a thread of its own. They depend on the grid alone, so a sweep starts them before it sets up and trains, and
    /// they are ready when the outputs need them: measured after the training, on a process's cold code, they took
    /// 0.2 s of what a user waited for after the training clock stopped.
    /// </summary>
    public static Task<double> MeasureSharpness(SweepGrid grid) => grid.HasMap ? Task.Run(() => ChapterSharpness(grid)) : Task.FromResult(double.NaN);

    /// <summary>
    /// The largest lambda_max of the momentum net along the chapter's run (train's defaults: 12 epochs of batch 32 at
    /// lr 0.01 and momentum 0.8, on the sweep's data and net shape, its first seed, at every epoch's end): where section
    /// 5.2 puts plain SGD's wall, 2/lambda_max, and heavy ball's, 2(1 + m)/lambda_max, which effective-lr.png marks.
    /// The chapter's run whatever the sweep's epochs and batch size, and the momentum net's Hessians alone, so its cost
    /// is bounded: 13 Hessians and 384 steps at the chapter's size. It took the sweep's own epochs and every net's
    /// Hessians: `sweep --epochs 200` went from 5.7 to 3.8 s whole here, its training 1.6 s either way.
    /// </summary>
    private static double ChapterSharpness(SweepGrid grid)
    {
        // The cells' net: train's momentum column, drawn after net_SGD as the default race draws it.
        var defaults = new Training.ExperimentSettings();
        var chapter = grid.Training with
        {
            Seed = grid.Seeds[0], LearningRate = SweepMap.Chapter.Lr, Momentum = SweepMap.Chapter.Momentum, Contestants = Training.ContestantNames.Default,
            Epochs = defaults.Epochs, BatchSize = Math.Min(defaults.BatchSize, grid.Training.Samples),
        };
        return Curvature.CurvatureAlongRun.Measure(chapter, chapter.StepsPerEpoch, top: 1, only: Training.ContestantNames.Momentum).Max(p => p.LambdaMax);
    }

    /// <summary>
    /// The study's tables, one per label noise: per batch size and target, each family's held-out steps (sustained
    /// measure, median over studies) with its chosen setting, and the speed-up with its interval and verdict; then the
    /// critical batch sizes, and what the other two measures say.
    /// </summary>
    private static void PrintStudy(IAnsiConsole console, ScalingStudy study, IReadOnlyList<ScalingOutputs.Extras> extras)
    {
        var grid = study.Grid;
        static string Steps(StudyRow? b) => b is null ? "-" : b.Reached
            ? $"{b.Steps:0.#} (lr {b.Lr:G3}{(b.Family == Family.Momentum ? $", m {b.Momentum:0.##}" : "")}{(b.OnEdge ? ", edge" : "")})" : "not reached";
        static string Interval(StudyRow? r) => r is null || double.IsNaN(r.SpeedUp) ? "-"
            : $"{Number(r.SpeedUp)} [{Number(r.SpeedUpLow)}, {Number(r.SpeedUpHigh)}]";
        var menus = study.MenuSizes;
        if (menus.Count == 2 && menus[Family.PlainSgd] != menus[Family.Momentum])
            console.MarkupLineInterpolated($"[yellow]Unequal menus: plain SGD chose among {menus[Family.PlainSgd]} settings, momentum among {menus[Family.Momentum]}; the larger menu wins more of the tuning seeds' luck (--menu equal).[/]");
        foreach (double noise in grid.NoiseLevels)
        {
            var table = new Table().Border(TableBorder.Rounded).Title(
                $"Label noise {Shown.Number(noise)}: steps to stay at each target on {grid.EvalSeeds.Count} held-out seeds, median over {grid.Studies} studies of {grid.Seeds.Count / grid.Studies} tuning seeds");
            table.AddColumns("batch", grid.Excess.Count > 0 ? "excess" : "target", "plain SGD", "momentum", "speed-up (95% interval)", "verdict");
            foreach (var group in study.Rows.Where(r => r.LabelNoise == noise && r.Measure == Measure.Sustained).GroupBy(b => (b.BatchSize, b.Target)))
            {
                var momentum = group.FirstOrDefault(b => b.Family == Family.Momentum);
                table.AddRow(group.Key.BatchSize.ToString(CultureInfo.InvariantCulture), Shown.Number(group.Key.Target),
                    Markup.Escape(Steps(group.FirstOrDefault(b => b.Family == Family.PlainSgd))), Markup.Escape(Steps(momentum)),
                    Markup.Escape(Interval(momentum)), momentum?.Verdict is { } v ? ScalingOutputs.Name(v) : "-");
            }
            console.Write(table);
            foreach (double target in grid.TargetNames)
            {
                string Critical(Family f) => study.CriticalBatchSize(noise, f, target) is { } b ? b.ToString("0.#", CultureInfo.InvariantCulture) : "beyond the grid";
                var verdicts = new[] { Measure.First, Measure.Mean }.Select(m => (m, rows: grid.CellBatchSizes.Select(b => study.Comparison(noise, m, b, target)).Where(r => r is not null).ToArray()))
                    .Select(p => $"{ScalingOutputs.Name(p.m)} {string.Join(" ", p.rows.Select(r => Number(r!.SpeedUp)))}");
                console.MarkupLineInterpolated($"{ScalingOutputs.TargetText(grid, target)}: critical batch size plain SGD {Critical(Family.PlainSgd)}, momentum {Critical(Family.Momentum)}; speed-ups by batch size, {string.Join("; ", verdicts)}.");
            }
        }
    }

    private static string Number(double value) => double.IsNaN(value) ? "-" : double.IsPositiveInfinity(value) ? "inf" : value.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>The table: the best point, the best plain SGD, the chapter's point and plain SGD at its effective lr, and how many cells diverged.</summary>
    private static void Print(IAnsiConsole console, SweepMap map)
    {
        static string N(double value) => value.ToString("G3", CultureInfo.InvariantCulture);
        var table = new Table().Border(TableBorder.Rounded).Title($"What the map says ({map.Grid.CellCount} cells, median over {map.Grid.Seeds.Count} seed(s))");
        table.AddColumns("point", "lr", "momentum", "lr/(1-m)", "last epoch's loss");
        void Row(string what, MapPoint? p)
        {
            if (p is null) table.AddRow(what, "-", "-", "-", "(not in the grid)");
            else table.AddRow(what, N(p.Lr), N(p.Momentum), N(p.EffectiveLr), p.Diverged ? "diverged" : p.Measured ? N(p.MedianLoss) : "no epoch finished");
        }
        Row("best", map.Best);
        Row("best plain SGD (momentum 0)", map.BestPlainSgd);
        Row("nearest the chapter's (0.01, 0.8)", map.NearestChapter);
        Row("plain SGD nearest lr 0.05 = 0.01/(1-0.8)", map.PlainSgdAtChapterEffectiveLr);
        console.Write(table);
        console.MarkupLineInterpolated($"{map.DivergedCells} of {map.Grid.CellCount} cells diverged (their loss became NaN or infinite; each was frozen there).");
    }
}
