using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using TorchMomentum.Cli.Output;
using TorchMomentum.Devices;
using TorchMomentum.Sweeps;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>
/// <c>torchmomentum sweep</c>: the chapter's momentum net over a grid of (learning rate, momentum, batch size, seed)
/// cells, all trained at once, whole or as one shard of a scheduler's array; <c>sweep merge</c> joins the shards.
/// <c>torchmomentum scaling</c> is the same command with the batch-size study's grid as its defaults
/// (<see cref="ScalingStudy.DefaultGrid"/>).
/// </summary>
public static class SweepCommand
{
    /// <summary>Builds <c>sweep</c> and its <c>merge</c> subcommand.</summary>
    public static Command Create(IAnsiConsole console, TextWriter error) =>
        Create(console, error, "sweep", new SweepGrid(),
            "Train the chapter's momentum net over a grid of learning rates, momenta, batch sizes and seeds at once, and map where momentum beats plain SGD.");

    /// <summary>Builds <c>scaling</c> and its <c>merge</c> subcommand: the sweep with the batch-size study's defaults.</summary>
    public static Command CreateScaling(IAnsiConsole console, TextWriter error) =>
        Create(console, error, "scaling", ScalingStudy.DefaultGrid,
            "The batch-size study: steps to a target loss against batch size, plain SGD and momentum each tuned at every batch size on tuning seeds and counted on held-out ones, the speed-up with its 95% interval, and the critical batch size.");

    private static Command Create(IAnsiConsole console, TextWriter error, string name, SweepGrid Defaults, string description)
    {
        var training = Defaults.Training;
        var lrMin = Options.Number("--lr-min", "Smallest learning rate", Defaults.LrMin, new(0, MinOpen: true));
        var lrMax = Options.Number("--lr-max", "Largest learning rate, at least --lr-min", Defaults.LrMax, new(0, MinOpen: true));
        var lrCount = Options.Count("--lr-count", "Learning rates, log-spaced", Defaults.LrCount, 1, SweepGrid.MaxCount);
        var momentumMin = Options.Number("--momentum-min", "Smallest momentum (0 is plain SGD)", Defaults.MomentumMin, new(0, 1, MaxOpen: true));
        var momentumMax = Options.Number("--momentum-max", "Largest momentum, at least --momentum-min", Defaults.MomentumMax, new(0, 1, MaxOpen: true));
        var momentumCount = Options.Count("--momentum-count", "Momenta, evenly spaced; 1 takes --momentum-min alone", Defaults.MomentumCount, 1, SweepGrid.MaxCount);
        var seeds = Options.WholeList("--seeds", "Seeds (each fixes data, initial weights and batch order, as train --seed); with targets, the tuning seeds, cut into --studies equal sets",
            [.. Defaults.Seeds], 0, aliases: ["--tune-seeds"]);
        var evalSeeds = Options.WholeList("--eval-seeds", "With targets: held-out seeds, none a tuning seed, on which each study's choices are counted", [.. ScalingStudy.DefaultGrid.EvalSeeds], 0);
        var studies = Options.Count("--studies", "With targets: how many times each family's setting is chosen, each on its own share of the tuning seeds", Defaults.Studies, 1, SweepGrid.MaxCount);
        var menu = Options.OneOf("--menu", "How each family's settings are laid out: grid (every lr at every momentum, the map) or equal (as many (lr, momentum) points for momentum as plain SGD has lrs: a fair study)",
            Defaults.Menu.ToString().ToLowerInvariant(), new Dictionary<string, SweepMenu> { ["grid"] = SweepMenu.Grid, ["equal"] = SweepMenu.Equal });
        var excess = Options.NumberList("--excess", "Targets above each seed's noise floor mean((y - x^2)^2) (instead of --targets)", [.. Defaults.Excess], new(0, MinOpen: true));
        var labelNoises = Options.NumberList("--label-noise", "sigma in the data's y = x^2 + sigma*noise (the chapter's 0.1; the same draws, scaled); several levels make a study of each",
            [Defaults.Training.LabelNoise], new(0, Data.ChapterData.MaxLabelNoise));
        var batchSizes = Options.WholeList("--batch-sizes", "Batch sizes, each a cell axis (instead of --batch-size)", [.. (Defaults.BatchSizes ?? []).Select(b => (long)b)], 1, ExperimentSettings.MaxSamples);
        var targets = Options.NumberList("--targets", "Full-data losses to reach: each cell reports its first step at or below each, and the first it stays there from", [.. Defaults.Targets], new(0, MinOpen: true));
        var steps = Options.OptionalCount("--steps", $"A budget in steps for every cell, whatever its batch size (default: {(Defaults.Steps is { } s ? s.ToString() : "--epochs")})", 1, SweepGrid.MaxSteps);
        var net = new TrainingOptions(training);
        var device = net.Device;
        var threads = Options.OptionalCount("--threads", "Chunks of cells trained at once, each on one thread (default: one per core on the CPU)", 1, SweepTraining.MaxThreads);
        var shard = new Option<string?>("--shard") { Description = "Train only shard i/n (the cells whose id mod n is i) and write sweep-shard-i-of-n.bin; auto: from a Slurm job array or, with --shards, a Kubernetes Indexed Job" };
        var shards = Options.OptionalCount("--shards", "With --shard auto in a Kubernetes Indexed Job: the number of shards (the Job's completions)", 1, Shard.MaxCount);
        var engine = Options.OneOf("--engine", "What trains the cells: fused (one pass per step in C#, a cell per vector lane; CPU) or torch (StackedNet on libtorch, the reference; CPU or CUDA)",
            Defaults.Engine.ToString().ToLowerInvariant(), new Dictionary<string, SweepEngine> { ["fused"] = SweepEngine.Fused, ["torch"] = SweepEngine.Torch });
        var force = Options.Force();
        var output = Options.Out("sweep.csv, epoch-losses.csv and summary.json; with --menu grid the map's sweep.png and effective-lr.png; with targets scaling.csv, scaling.png, speedup.png, best-lr.png and critical-batch.png (or a shard's file)");

        var command = new Command(name, description)
        {
            lrMin, lrMax, lrCount, momentumMin, momentumMax, momentumCount, menu, seeds, evalSeeds, studies, batchSizes, targets, excess, labelNoises, steps, engine,
        };
        foreach (var option in net.Settings.Where(o => o != net.LabelNoise).Append(device).Append(threads).Append(output).Append(force).Append(shard).Append(shards)) command.Options.Add(option);
        command.Subcommands.Add(Merge(console, error, name));
        command.SetAction(parse =>
        {
            if (DeviceChoice.Resolve(parse.GetValue(device), out var problem) is not { } chosen) return ExitCodes.Refuse(error, DeviceChoice.Refusal(problem));
            if (parse.GetResult(batchSizes) is { Implicit: false } && parse.GetResult(net.BatchSize) is { Implicit: false })
                return ExitCodes.Refuse(error, "--batch-size and --batch-sizes: give one of them (--batch-sizes takes a list, such as 1,32,1000).");
            long[] sizes = parse.GetValue(batchSizes)!;
            bool Given(Option option) => parse.GetResult(option) is { Implicit: false };
            if (Given(targets) && Given(excess)) return ExitCodes.Refuse(error, "--targets and --excess: give one of them (--excess takes targets above each seed's noise floor).");
            double[] absolute = parse.GetValue(targets)!, above = Given(targets) ? [] : parse.GetValue(excess)!;
            bool study = absolute.Length > 0 || above.Length > 0;
            if (!study && parse.GetValue(menu) == SweepMenu.Equal)
                return ExitCodes.Refuse(error, "--menu equal goes with a study: give --excess or --targets.");
            if (!study && (Given(evalSeeds) || Given(studies)))
                return ExitCodes.Refuse(error, $"--{(Given(evalSeeds) ? "eval-seeds" : "studies")} goes with a study: give --excess or --targets.");
            if (parse.GetValue(menu) == SweepMenu.Equal && Given(momentumCount))
                return ExitCodes.Refuse(error, "--momentum-count lays out the grid menu; with --menu equal, momentum has as many settings as --lr-count.");
            double[] noises = parse.GetValue(labelNoises)!;
            var grid = new SweepGrid
            {
                LrMin = parse.GetValue(lrMin), LrMax = parse.GetValue(lrMax), LrCount = parse.GetValue(lrCount),
                MomentumMin = parse.GetValue(momentumMin), MomentumMax = parse.GetValue(momentumMax), MomentumCount = parse.GetValue(momentumCount),
                Menu = parse.GetValue(menu),
                Seeds = parse.GetValue(seeds)!,
                EvalSeeds = study ? parse.GetValue(evalSeeds)! : [],
                Studies = study ? parse.GetValue(studies) : 1,
                BatchSizes = sizes.Length == 0 || parse.GetResult(net.BatchSize) is { Implicit: false } ? null : [.. sizes.Select(b => (int)b)],
                Targets = absolute,
                Excess = above,
                LabelNoises = noises.Length == 1 ? null : noises,
                Steps = parse.GetValue(steps) ?? Defaults.Steps,
                Engine = parse.GetValue(engine),
                Training = net.Read(parse, training) with { LabelNoise = noises[0] },
            };
            if (grid.Problem() is { } bad) return ExitCodes.Refuse(error, bad.ForCommandLine + ".");
            Shard part = Shard.Whole;
            if (parse.GetValue(shard) is { } given)
            {
                if (ShardChoice.Resolve(given, parse.GetValue(shards), Environment.GetEnvironmentVariable, out string? shardError) is not { } resolved)
                    return ExitCodes.Refuse(error, shardError);
                part = resolved;
            }
            else if (parse.GetValue(shards) is not null) return ExitCodes.Refuse(error, "--shards goes with --shard auto (a Kubernetes Indexed Job).");
            if (chosen.type != TorchSharp.DeviceType.CPU)
            {
                // The fused engine is the CPU's; on CUDA the torch engine trains, unless fused was asked for by name.
                if (parse.GetResult(engine) is { Implicit: false } && grid.Engine == SweepEngine.Fused)
                    return ExitCodes.Refuse(error, "--engine fused trains on the CPU; with --device cuda, give --engine torch.");
                grid = grid with { Engine = SweepEngine.Torch };
            }
            int workers = parse.GetValue(threads) ?? (chosen.type == TorchSharp.DeviceType.CPU ? Environment.ProcessorCount : 1);
            if (grid.MemoryProblem(grid.CellCountOf(part), workers, HostMemory.AvailableBytes()) is { } tooBig) return ExitCodes.Refuse(error, tooBig.ForCommandLine + ".");
            // Signals are heard from here until the last file is in place: a stop while the results are written leaves the folder as it was.
            using var interruption = Interruption.Listen();
            try
            {
                // Any --shard writes a shard file, --shard 0/1 (a job array of one task) too: merge makes the sweep's files.
                return parse.GetValue(shard) is null
                    ? Whole(console, error, name, grid, chosen, workers, parse.GetValue(output), parse.GetValue(force), interruption)
                    : OneShard(console, error, grid, part, chosen, workers, parse.GetValue(output), parse.GetValue(force), interruption);
            }
            catch (OperationCanceledException) when (interruption.Requested)
            {
                return Stopped(error, interruption, name);
            }
        });
        return command;
    }

    /// <summary>Says that a signal stopped the command before its results were in place, and returns the signal's exit code.</summary>
    private static int Stopped(TextWriter error, Interruption interruption, string command)
    {
        error.WriteLine($"{command}: stopped by {interruption.Name}; nothing was written, and the folder holds what it held before.");
        return interruption.ExitCode;
    }

    private static int Whole(IAnsiConsole console, TextWriter error, string name, SweepGrid grid, Device device, int workers, string? output, bool force, Interruption interruption)
    {
        using var folder = RunFolder.Open(output, name, force, SweepOutputs.Files, out string? folderError);
        if (folder is null) return ExitCodes.Refuse(error, folderError);
        var sharpness = SweepOutputs.MeasureSharpness(grid);
        // epoch-losses.csv grows with the epochs: written as they end, it is ready when the training is.
        using var epochs = new EpochLossesStream(folder.Staged(SweepCsv.EpochsFileName));
        var (results, run) = Train(console, grid, Shard.Whole, device, workers, interruption, epochs.Add);
        SweepOutputs.Write(console, folder, grid, results, shards: 1, run, sharpness, interruption.Token, epochs);
        return ExitCodes.Ok;
    }

    private static int OneShard(IAnsiConsole console, TextWriter error, SweepGrid grid, Shard shard, Device device, int workers, string? output, bool force, Interruption interruption)
    {
        if (string.IsNullOrWhiteSpace(output)) return ExitCodes.Refuse(error, "--shard needs --out, the folder every shard of the sweep writes into (and sweep merge reads).");
        if (File.Exists(output)) return ExitCodes.Refuse(error, $"--out must be a folder (got '{output}', which is a file).");
        string path = Path.Combine(output, SweepShardFile.FileName(shard));
        // A shard that merge could not read is refused before its training, not after.
        long bytes = SweepShardFile.EstimatedBytes(grid, grid.CellCountOf(shard));
        if (bytes > SweepShardFile.MaxBytes)
            return ExitCodes.Refuse(error, $"--shard: shard {shard} of this sweep would take about {bytes / 1e6:N0} MB, more than the {SweepShardFile.MaxBytes / 1e6:N0} MB a merge reads; cut the sweep into at least {(long)Math.Ceiling((double)bytes * shard.Count / SweepShardFile.MaxBytes)} shards.");
        // A rerun of the same shard (a requeued task) replaces its own file; one of another sweep is the user's, kept unless --force.
        if (Path.Exists(path) && !force)
        {
            SweepShardFile? earlier = null;
            try { earlier = SweepShardFile.Read(path); } catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException) { }
            if (earlier is null || !earlier.Grid.SameAs(SweepGridJson.From(grid)))
                return ExitCodes.Refuse(error, $"--out: '{path}' holds a shard of another sweep (or is not a shard file); add --force to replace it, or choose another folder.");
        }
        try
        {
            Directory.CreateDirectory(output);
            SweepShardFile.Probe(output);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ExitCodes.Refuse(error, RunFolder.CannotWrite("--out", output, e));
        }
        var (results, run) = Train(console, grid, shard, device, workers, interruption);
        // One rename puts the file in place; a signal before it leaves what was there.
        interruption.Token.ThrowIfCancellationRequested();
        new SweepShardFile
        {
            Format = SweepShardFile.FormatName, Version = SweepShardFile.CurrentVersion, Grid = SweepGridJson.From(grid), ShardIndex = shard.Index, ShardCount = shard.Count,
            Run = run,
            Cells = results.Select(ShardCell.From).ToArray(),
        }.Write(path);
        console.MarkupLineInterpolated($"Wrote [bold]{path}[/]: shard {shard} of the sweep, {results.Count} cells; when every shard is done, run `sweep merge {output}` (or `scaling merge`: the same).");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Trains the shard's cells with a progress bar; a signal stops it within a step (<see cref="OperationCanceledException"/>),
    /// set-up included. Returns the results and how the training ran.
    /// </summary>
    private static (IReadOnlyList<CellResult> Results, SweepRun Run) Train(IAnsiConsole console, SweepGrid grid, Shard shard, Device device, int workers, Interruption interruption,
        EpochLossesHandler? onEpochLosses = null)
    {
        set_num_threads(1); // parallel over chunks instead: see SweepTraining
        // The torch engine makes and drops a chunk's activation tensors, each at most ChunkActivationBytes, every step:
        // keep them for reuse (with room for a tensor's header and alignment). Only speed depends on it. The fused
        // engine makes no tensor in its loop, so it leaves malloc as it is.
        if (grid.Engine == SweepEngine.Torch && !NativeHeap.KeepFreedBuffers(2 * SweepTraining.ChunkActivationBytes))
            console.MarkupLine("[grey](malloc keeps its own policy for large buffers here: a step may page-fault through fresh ones)[/]");
        int cells = (int)grid.CellCountOf(shard);
        long total = grid.CellSteps(shard), done = 0;
        var rss = new List<long>();
        string batches = grid.BatchSizes is null ? "" : $" x {grid.CellBatchSizes.Count} batch sizes";
        string budget = grid.Steps is { } steps ? $"up to {steps} steps each" : grid.BatchSizes is null ? $"{grid.Training.Epochs} epochs of {grid.Training.StepsPerEpoch} steps" : $"{grid.Training.Epochs} epochs each";
        string targets = grid.Targets.Count > 0 ? $", to full-data losses {string.Join(", ", grid.Targets.Select(t => Shown.Number(t)))}"
            : grid.Excess.Count > 0 ? $", to {string.Join(", ", grid.Excess.Select(t => Shown.Number(t)))} above each seed's noise floor" : "";
        string seeds = grid.EvalSeeds.Count == 0 ? $"{grid.Seeds.Count} seed(s)" : $"{grid.Seeds.Count} tuning seeds ({grid.Studies} studies) + {grid.EvalSeeds.Count} held-out seeds";
        string noises = grid.NoiseLevels.Count == 1 ? "" : $" x {grid.NoiseLevels.Count} label noises";
        string settings = grid.Menu == SweepMenu.Grid ? $"{grid.LrCount} learning rates x {grid.MomentumCount} momenta" : $"{grid.LrCount} settings for each family";
        string engine = grid.Engine == SweepEngine.Torch ? "the torch engine" : $"the fused engine ({FusedStep.Path})";
        console.MarkupLineInterpolated($"Sweeping {cells} cells{(shard.Count == 1 ? "" : $" (shard {shard})")} on {device.type.ToString().ToLowerInvariant()} by {engine} with {workers} thread(s): {settings}{batches} x {seeds}{noises}, {budget}{targets}");
        var clock = Stopwatch.StartNew();
        TimeSpan setUp = TimeSpan.Zero, trained = TimeSpan.Zero;
        IReadOnlyList<CellResult> results;
        // Set-up (each seed's data and nets drawn, the cells made) has a bar of its own: a grid of millions of cells
        // takes a while before its first step, and says so.
        var preparing = TrainingProgress.Start(console, SweepTraining.SetUpUnits(grid, shard), 0, "set-up");
        TrainingProgress? progress = null;
        try
        {
            // Training is from the first step to the end of the last epoch: not the progress bar's last frame nor the
            // gathering of the results after it (about 10 ms, measured: a fifth of a 1,024-cell sweep's training).
            results = SweepTraining.Train(grid, shard, device, workers, onSteps: n => progress!.Report(Interlocked.Add(ref done, n)),
                onEpoch: (_, _) =>
                {
                    trained = clock.Elapsed;
                    rss.Add(Environment.WorkingSet);
                }, cancel: interruption.Token, onTrainingStarts: () =>
                {
                    setUp = clock.Elapsed;
                    preparing.Dispose();
                    progress = TrainingProgress.Start(console, total, 0, "cell-steps");
                }, onSetUp: preparing.Report, onEpochLosses: onEpochLosses);
        }
        finally
        {
            preparing.Dispose();
            progress?.Dispose();
        }
        double seconds = (trained - setUp).TotalSeconds;
        using var self = Process.GetCurrentProcess();
        return (results, new SweepRun(device.type.ToString().ToLowerInvariant(), workers, seconds, self.PeakWorkingSet64, [.. rss], setUp.TotalSeconds));
    }

    /// <summary><c>sweep merge DIR</c> (or <c>scaling merge DIR</c>: the same, as a shard file says which grid it is of).</summary>
    private static Command Merge(IAnsiConsole console, TextWriter error, string name)
    {
        var folderArgument = new Argument<string>("folder") { Description = "The folder the shards wrote their sweep-shard-i-of-n.bin files into" };
        var force = new Option<bool>("--force") { Description = "Replace the merged results of an earlier merge in the folder" };
        var merge = new Command("merge", "Check that the shards in a folder form one complete sweep and write what the whole sweep would have: sweep.csv, epoch-losses.csv, summary.json and the figures.")
        {
            folderArgument, force,
        };
        merge.SetAction(parse =>
        {
            string dir = parse.GetValue(folderArgument)!;
            if (!Directory.Exists(dir)) return ExitCodes.Refuse(error, $"{name} merge: the folder must exist (got '{dir}').");
            // Checked before anything is made in the folder, the lock file included.
            RunFolder.Recover(dir, SweepOutputs.Files);
            if (!parse.GetValue(force) && SweepOutputs.Files.FirstOrDefault(f => Path.Exists(Path.Combine(dir, f))) is { } earlier)
                return ExitCodes.Refuse(error, $"{name} merge: '{dir}' already holds {earlier} of an earlier merge; add --force to replace it.");
            if (SweepMerge.Read(dir, out string? mergeError) is not { } merged) return ExitCodes.Refuse(error, mergeError);
            var shards = merged.Shards;
            long shardBytes = Directory.GetFiles(dir, SweepShardFile.Pattern).Sum(f => new FileInfo(f).Length);
            if (HostMemory.Refusal(merged.Grid.EstimatedMergeBytes(shardBytes), HostMemory.AvailableBytes(),
                    $"merging {shards.Length} shards of a {merged.Grid.CellCount}-cell sweep", "merge on a machine with more memory") is { } tooBig)
                return ExitCodes.Refuse(error, $"{name} merge: {tooBig.ForCommandLine}.");
            using var interruption = Interruption.Listen();
            using var folder = RunFolder.Existing(dir, "sweep merge FOLDER", SweepOutputs.Files, out string? folderError, replaceEarlier: parse.GetValue(force));
            if (folder is null) return ExitCodes.Refuse(error, folderError);
            console.MarkupLineInterpolated($"Merging {shards.Length} shards of a {merged.Grid.CellCount}-cell sweep in [bold]{dir}[/].");
            try
            {
                SweepOutputs.Write(console, folder, merged.Grid, merged.Results, shards.Length, SweepRun.Merged([.. shards.Select(s => s.Run)]),
                    SweepOutputs.MeasureSharpness(merged.Grid), interruption.Token);
            }
            catch (OperationCanceledException) when (interruption.Requested)
            {
                return Stopped(error, interruption, $"{name} merge");
            }
            return ExitCodes.Ok;
        });
        return merge;
    }
}
