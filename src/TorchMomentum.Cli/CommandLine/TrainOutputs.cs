using System.Globalization;
using Spectre.Console;
using TorchMomentum.Cli.Output;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>
/// What <c>train</c> shows and writes around its loop: the report, losses.png, summary.json, model.pt, the lines
/// for a divergence or an interruption, and the timings.
/// </summary>
/// <param name="Console">Where the report and the progress go.</param>
/// <param name="Error">Where one-line problems go.</param>
/// <param name="Wall">The command's phases, for --timings and summary.json.</param>
/// <param name="Export">Whether model.pt is asked for.</param>
public sealed record TrainOutputs(IAnsiConsole Console, TextWriter Error, Timings Wall, bool Export)
{
    private Task? ready;

    /// <summary>The plots' library and summary.json's serializer get ready on the other core while libtorch loads and the nets train.</summary>
    public void WarmUp() => ready = Task.Run(() =>
    {
        Summary.WarmUp();
        PlotFile.WarmUp();
    });

    /// <summary>
    /// Writes the results of a run that ended (finished or diverged) and returns its exit code. The plot is drawn
    /// on the other core while the report prints; "plot" is what is left of it after the report. The warm-up's
    /// own failure does not matter: the real plot meets it again and says what it is.
    /// </summary>
    public int Write(ChapterRun run, ExperimentResult result, RunFolder folder)
    {
        var fit = run.Fit(); // on this thread, which owns the run's tensors; the figures are drawn from plain arrays
        // The two figures draw at once: one on the other core, one on this one once the report is printed.
        var warm = ready ?? Task.CompletedTask;
        var plotted = Task.WhenAll(
            warm.ContinueWith(_ => LossPlot.Write(folder[LossPlot.FileName], result), TaskScheduler.Default),
            warm.ContinueWith(_ => FitPlot.Write(folder[FitPlot.FileName], fit, run.Names), TaskScheduler.Default));
        TrainReport.Print(Console, result);
        Wall.Mark("report");
        plotted.GetAwaiter().GetResult();
        Wall.Mark("plot");
        Summary.From(result, TrainCommand.Describe(run), get_num_threads(), Wall).Write(folder[Summary.FileName]);
        Wall.Mark("summary"); // after the file, which holds the phases before it
        string[] written = [LossesCsv.FileName, Summary.FileName, LossPlot.FileName, FitPlot.FileName];
        if (Export && run.Divergence is null)
        {
            PyTorchExport.Write(folder[PyTorchExport.FileName], run.NetOf(ContestantNames.Handwritten)!, (TorchMomentum.Optimizers.MomentumSgd)run.OptimizerOf(ContestantNames.Handwritten)!,
                run.Names.Select(name => (name, run.NetOf(name)!)).ToList());
            written = [.. written, PyTorchExport.FileName];
        }
        folder.Publish(Console, written);
        if (run.Divergence is not { } divergence) return ExitCodes.Ok;
        Error.WriteLine($"{divergence.Optimizer} diverged at step {divergence.Step}: its loss became NaN or infinite " +
            $"(last finite loss {divergence.LastFiniteLoss.ToString("G6", CultureInfo.InvariantCulture)}); {LossesCsv.FileName} keeps steps 0 to {divergence.Step - 1}.");
        return ExitCodes.Diverged;
    }

    /// <summary>
    /// Says in one line what a run stopped by a signal kept, and returns the signal's exit code. Only what was
    /// written as training went is there: losses.csv's rows and the last checkpoint; the report, plot and summary
    /// describe finished runs and are not written. A run that was to replace earlier results (--force) keeps
    /// those instead.
    /// </summary>
    public int Interrupted(Interruption interruption, RunFolder folder, int steps, int checkpointEpoch)
    {
        if (folder.ReplacesEarlier)
        {
            // --force replaces earlier results only with complete ones: the folder's Dispose puts them back.
            Error.WriteLine($"Stopped by {interruption.Name} after step {steps - 1}: '{folder.Path}' keeps the earlier results --force would have replaced, " +
                "as they were; this run's rows are not kept.");
            return interruption.ExitCode;
        }
        string rows = steps == 0 ? $"{LossesCsv.FileName} has no rows yet" : $"{LossesCsv.FileName} keeps steps 0 to {steps - 1}";
        string resume = checkpointEpoch > 0
            ? $"{Checkpoint.FileName} (after epoch {checkpointEpoch}) continues with `torchmomentum train --resume {folder.Path}`"
            : checkpointEpoch == 0 ? "no epoch was checkpointed yet" : "no checkpoint was kept (--checkpoint-every makes a run resumable)";
        Error.WriteLine($"Stopped by {interruption.Name} after step {steps - 1}: {rows} in '{folder.Path}'; {resume}.");
        return interruption.ExitCode;
    }

    /// <summary>Prints the timings if asked, and passes the exit code on.</summary>
    public int Finish(int exit, bool timings)
    {
        if (timings) Wall.Print(Console);
        return exit;
    }
}
