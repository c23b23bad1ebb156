using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using TorchMomentum.Cli.Output;
using TorchMomentum.Devices;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>
/// <c>torchmomentum train</c>: the chapter's comparison of plain SGD, built-in SGD with momentum and the
/// hand-written momentum optimizer, with the chapter's defaults; optionally checkpointed and resumable.
/// </summary>
public static class TrainCommand
{
    private static readonly ExperimentSettings Defaults = new();

    /// <summary>Every file a train run writes into its folder.</summary>
    private static readonly string[] Results = [LossesCsv.FileName, Summary.FileName, LossPlot.FileName, FitPlot.FileName, Checkpoint.FileName, PyTorchExport.FileName];

    /// <summary>
    /// The options that choose a run beside its shape (<see cref="TrainingOptions"/>): --seed, --lr, --momentum and
    /// --contestants (and --contestant-settings), with the chapter's defaults; every command that trains the chapter's run takes them so.
    /// </summary>
    public static (Option<long> Seed, Option<double> Lr, Option<double> Momentum, Option<string> Contestants, Option<string> ContestantSettings) RunChoices() =>
    (
        Options.Long("--seed", "Seed for torch.manual_seed", Defaults.Seed, 0),
        Options.Number("--lr", "Learning rate", Defaults.LearningRate, new(0)),
        Options.Number("--momentum", "Momentum parameter", Defaults.Momentum, new(0, 1, MaxOpen: true)),
        new Option<string>("--contestants")
        {
            Description = $"The contestants, comma-separated, in column order ({string.Join("|", ContestantNames.All)}; default {ContestantNames.Default}). " +
                "The nets of sgd, momentum, rmsprop and adam are drawn in the chapter's order (net_SGD, net_Momentum, net_RMSprop, net_Adam), " +
                "those the list needs, whatever its order; handwritten, nesterov and sgd-effective (plain SGD at lr/(1 - momentum)) start from a copy " +
                "of the momentum net, and so do momentum's family (qhm, aggmo, accsgd, schedule-free, lion, ema) and adamw (docs/optimizer.md). " +
                "Every net drawn shifts the batch order, in PyTorch as here.",
            DefaultValueFactory = _ => ContestantNames.Default,
        },
        new Option<string>("--contestant-settings")
        {
            Description = "Settings of the raced contestants' optimizers, comma-separated contestant.knob=value, a list with ':' " +
                "(e.g. qhm.nu=0.5,aggmo.betas=0:0.9:0.99,lion.lr=3e-4). Knobs and defaults: " +
                string.Join("; ", ContestantKinds.All.Where(k => k.Knobs.Count > 0).Select(k => $"{k.Name} {string.Join(" ", k.Knobs.Select(KnobDefault))}")),
            DefaultValueFactory = _ => "",
        }
    );

    private static string KnobDefault(Knob knob) => $"{knob.Name}={knob.DefaultText(new ExperimentSettings())}";

    /// <summary>Builds the command; its action writes to <paramref name="console"/> and <paramref name="error"/>.</summary>
    public static Command Create(IAnsiConsole console, TextWriter error)
    {
        var (seed, lr, momentum, contestants, contestantSettings) = RunChoices();
        var net = new TrainingOptions(Defaults);
        var (batchSize, epochs, samples, hidden, labelNoise, dtype, device) = (net.BatchSize, net.Epochs, net.Samples, net.Hidden, net.LabelNoise, net.DType, net.Device);
        var threads = Options.OptionalCount("--threads", "libtorch intra-op threads (default: 1 for nets whose batch x hidden is under 32768, else libtorch's choice)", 1, Environment.ProcessorCount);
        var checkpointEvery = Options.OptionalCount("--checkpoint-every", "Save a checkpoint every N epochs, for --resume", 1, ExperimentSettings.MaxEpochs);
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder from its last checkpoint, with its stored settings" };
        var timings = new Option<bool>("--timings") { Description = "Print where the command's time went, phase by phase (summary.json has it always)" };
        var export = new Option<bool>("--export") { Description = $"Also write {PyTorchExport.FileName}: the hand-written net and its optimizer state in PyTorch's format" };
        var force = Options.Force();
        var output = Options.Out("losses.csv, summary.json, losses.png, fit.png, checkpoint.bin (with --checkpoint-every) and model.pt (with --export)");
        Option[] runSettings = [seed, lr, momentum, contestants, contestantSettings, batchSize, epochs, samples, hidden, labelNoise, dtype, checkpointEvery, output, force];

        var command = new Command("train", "Train the chapter's net with SGD, built-in momentum and the hand-written momentum optimizer, side by side.")
        {
            seed, lr, momentum, contestants, contestantSettings, batchSize, epochs, samples, hidden, labelNoise, dtype, device, threads, checkpointEvery, resume, output, force, export, timings,
        };
        command.SetAction(parse =>
        {
            var wall = new Timings();
            var outputs = new TrainOutputs(console, error, wall, parse.GetValue(export));
            outputs.WarmUp(); // on the other core, while this one loads libtorch
            if (DeviceChoice.Resolve(parse.GetValue(device), out var problem) is not { } chosen)
                return ExitCodes.Refuse(error, DeviceChoice.Refusal(problem));
            wall.Mark("libtorch load");
            if (parse.GetValue(resume) is { } resumed)
            {
                if (runSettings.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } given)
                    return ExitCodes.Refuse(error, $"--resume continues with the run's stored settings: {given.Name} cannot be given with it.");
                return outputs.Finish(Resume(resumed, chosen, parse.GetValue(threads), outputs), parse.GetValue(timings));
            }

            var settings = net.Read(parse, new ExperimentSettings
            {
                Seed = parse.GetValue(seed),
                LearningRate = parse.GetValue(lr),
                Momentum = parse.GetValue(momentum),
                Contestants = parse.GetValue(contestants)!,
                ContestantSettings = parse.GetValue(contestantSettings)!,
            });
            if ((settings.Problem() ?? settings.MemoryProblem(HostMemory.AvailableBytes())) is { } refusal)
                return ExitCodes.Refuse(error, refusal.ForCommandLine + ".");
            if (parse.GetValue(export) && ExportRefusal(settings) is { } cannotExport) return ExitCodes.Refuse(error, cannotExport);
            using var folder = RunFolder.Open(parse.GetValue(output), "train", parse.GetValue(force), Results, out string? folderError);
            if (folder is null) return ExitCodes.Refuse(error, folderError);
            UseThreads(parse.GetValue(threads), settings);

            using var run = new ChapterRun(settings, chosen);
            var csv = LossesCsv.Create(folder[LossesCsv.FileName], settings);
            wall.Mark("data and nets");
            var checkpoints = parse.GetValue(checkpointEvery) is int every ? new CheckpointPolicy(every) : null;
            return outputs.Finish(Train(run, csv, run.NewHistory(), checkpoints, folder, outputs), parse.GetValue(timings));
        });
        return command;
    }

    /// <summary>
    /// The threads asked for, or by default one for a net too small for libtorch to split an operation across
    /// threads (it splits from 32768 elements; the chapter's activations are 32 x 20): more would only cost
    /// coordination. A larger net keeps libtorch's choice.
    /// </summary>
    private static void UseThreads(int? asked, ExperimentSettings settings)
    {
        if (asked is int n) set_num_threads(n);
        else if ((long)settings.BatchSize * settings.Hidden < 32768) set_num_threads(1);
    }

    private static int Resume(string path, Device device, int? threads, TrainOutputs outputs)
    {
        var error = outputs.Error;
        using var folder = RunFolder.Existing(path, "--resume", Results, out string? folderError);
        if (folder is null) return ExitCodes.Refuse(error, folderError);
        string file = folder[Checkpoint.FileName];
        if (!Path.Exists(file))
            return ExitCodes.Refuse(error, $"--resume needs a run folder with a {Checkpoint.FileName} (none in '{path}': was the run started with --checkpoint-every?).");
        Checkpoint checkpoint;
        try
        {
            checkpoint = Checkpoint.Read(file);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return ExitCodes.Refuse(error, $"--resume: '{file}' cannot be loaded: {e.Message}.");
        }
        // The stored settings passed the command line's checks (Checkpoint.Read); the machine may have less memory now.
        if (checkpoint.Settings.MemoryProblem(HostMemory.AvailableBytes()) is { } tooBig)
            return ExitCodes.Refuse(error, $"--resume: the run in '{path}' cannot fit here: {tooBig.ForCommandLine}.");
        if (outputs.Export && ExportRefusal(checkpoint.Settings) is { } cannotExport) return ExitCodes.Refuse(error, cannotExport);
        LossesCsv csv;
        List<double[]> kept;
        try
        {
            (csv, kept) = LossesCsv.Continue(folder[LossesCsv.FileName], checkpoint.EpochsDone * checkpoint.Settings.StepsPerEpoch,
                checkpoint.RowsSha256, checkpoint.Settings);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or FormatException or UnauthorizedAccessException)
        {
            return ExitCodes.Refuse(error, $"--resume: '{folder[LossesCsv.FileName]}' does not match its checkpoint: {e.Message}.");
        }
        UseThreads(threads, checkpoint.Settings);
        using var run = ChapterRun.Restore(checkpoint, device);
        var history = run.NewHistory();
        foreach (var row in kept) history.Add(row);
        outputs.Wall.Mark("data and nets");
        outputs.Console.MarkupLineInterpolated($"Resuming [bold]{path}[/] after epoch {run.EpochsDone} of {run.Settings.Epochs}.");
        return Train(run, csv, history, new CheckpointPolicy(checkpoint.CheckpointEvery), folder, outputs);
    }

    /// <summary>
    /// The training loop, top to bottom: each step's losses go to the history and to losses.csv, the progress bar
    /// hears of it, and a checkpoint is saved when the policy says so; until the run ends, diverges, or Ctrl+C or
    /// SIGTERM stops it between two steps. Then the results are written. Owns <paramref name="csv"/>.
    /// </summary>
    private static int Train(ChapterRun run, LossesCsv csv, LossHistory history, CheckpointPolicy? checkpoints, RunFolder folder, TrainOutputs outputs)
    {
        var settings = run.Settings;
        // A net too small for libtorch to split an operation (one intra-op thread) steps beside the others, each
        // core stepping its share of the nets; the numbers are the same for any sharing.
        int workers = get_num_threads() == 1 ? Math.Min(Environment.ProcessorCount, run.Names.Count) : 1;
        outputs.Console.MarkupLine($"Training on [bold]{Describe(run)}[/] ({Threads(workers)}): {settings.Epochs} epochs x {settings.StepsPerEpoch} steps, " +
            $"lr {settings.LearningRate.ToString(CultureInfo.InvariantCulture)}, momentum {settings.Momentum.ToString(CultureInfo.InvariantCulture)}, seed {settings.Seed}, {settings.DType.ToString().ToLowerInvariant()}");
        int stepsBefore = history.Steps, lastCheckpointEpoch = checkpoints is null ? -1 : run.EpochsDone;
        var clock = Stopwatch.StartNew();
        bool stopped = false;
        // Only the loop listens: a signal while the results are written ends the process as usual (every file is
        // written atomically), and one during the last step lets the finished run write its results.
        using (var interruption = Interruption.Listen())
        using (csv)
        using (var progress = TrainingProgress.Start(outputs.Console, settings.TotalSteps, history.Steps))
        {
            foreach (var step in run.Train(workers))
            {
                history.Add(step.Losses);
                csv.Append(step.Step, step.Losses);
                progress.Report(step.Step + 1);
                if (checkpoints?.DueAfter(step, run) == true)
                {
                    csv.Sync(); // a checkpoint must never count rows that could still be lost
                    run.Checkpoint(checkpoints.Every, csv.Sha256()).Write(folder[Checkpoint.FileName]);
                    lastCheckpointEpoch = run.EpochsDone;
                }
                if (interruption.Requested && !run.IsComplete)
                {
                    stopped = true;
                    break;
                }
            }
            if (stopped)
            {
                progress.Dispose(); // the cursor back before the line that says what was kept
                csv.Sync(); // and the rows it speaks of on disk
                return outputs.Interrupted(interruption, folder, history.Steps, lastCheckpointEpoch);
            }
        }
        outputs.Wall.Mark("training");
        return outputs.Write(run, run.Result(history, clock.Elapsed, history.Steps - stepsBefore), folder);
    }

    /// <summary>
    /// Why --export cannot go with these settings, or null. model.pt holds PyTorch's momentum buffer b, which the
    /// hand-written net's velocity gives as v / lr; at an lr of 0 (or one the dtype holds as 0) v is 0 whatever b
    /// is, and v / lr would be NaN.
    /// </summary>
    private static string? ExportRefusal(ExperimentSettings settings) =>
        !settings.ContestantList.Contains(ContestantNames.Handwritten)
            ? $"--export writes the hand-written net and its optimizer state: --contestants must include handwritten (got '{settings.Contestants}')."
        : !TorchMomentum.Optimizers.MomentumSgd.LearningRateVanishes(settings.LearningRate, settings.DType) ? null
            : $"--export needs --lr > 0{(settings.LearningRate == 0 ? "" : $" in {settings.DType.ToString().ToLowerInvariant()}")} (got '{Shown.Number(settings.LearningRate)}'): " +
              "model.pt holds PyTorch's momentum buffer, v / lr, and at lr 0 the velocity v is 0 whatever that buffer is.";

    private static string Threads(int workers) => get_num_threads() > 1 ? $"{get_num_threads()} threads"
        : workers == 1 ? "1 thread, the fastest for a net this small" : $"1 thread a net, the fastest for a net this small, {workers} nets at once";

    /// <summary>Where the run trains, as the console and summary.json name it.</summary>
    internal static string Describe(ChapterRun run) => run.Device.type.ToString().ToLowerInvariant();
}
