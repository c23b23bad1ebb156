using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using TorchMomentum.Cli.Output;
using TorchMomentum.Devices;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>
/// <c>torchmomentum train</c>: the chapter's comparison of plain SGD, built-in SGD with momentum and the
/// hand-written momentum step, with the chapter's defaults.
/// </summary>
public static class TrainCommand
{
    private static readonly ExperimentSettings Defaults = new();

    /// <summary>Builds the command; its action writes to <paramref name="console"/> and <paramref name="error"/>.</summary>
    public static Command Create(IAnsiConsole console, TextWriter error)
    {
        var seed = Options.Long("--seed", "Seed for torch.manual_seed", Defaults.Seed, 0);
        var lr = Options.Number("--lr", "Learning rate", Defaults.LearningRate, new(0));
        var momentum = Options.Number("--momentum", "Momentum parameter", Defaults.Momentum, new(0, 1, MaxOpen: true));
        var batchSize = Options.Count("--batch-size", "Samples per mini-batch, at most --samples", Defaults.BatchSize, 1);
        var epochs = Options.Count("--epochs", "Passes over the data", Defaults.Epochs, 1, 1_000_000);
        var samples = Options.Count("--samples", "Number of data points", Defaults.Samples, 1, 100_000_000);
        var hidden = Options.Count("--hidden", "Width of the hidden layer", Defaults.Hidden, 1, 1_000_000);
        var dtype = Options.OneOf("--dtype", "Floating type of data and weights", "float32",
            new Dictionary<string, ScalarType> { ["float32"] = ScalarType.Float32, ["float64"] = ScalarType.Float64 });
        var device = Options.OneOf("--device", "Where to train", "auto",
            new Dictionary<string, DeviceRequest> { ["cpu"] = DeviceRequest.Cpu, ["cuda"] = DeviceRequest.Cuda, ["auto"] = DeviceRequest.Auto });
        var threads = Options.OptionalCount("--threads", "libtorch intra-op threads (default: libtorch's choice)", 1, 1024);
        var output = Options.Out("losses.csv, summary.json and losses.png");

        var command = new Command("train", "Train the chapter's net with SGD, built-in momentum and the hand-written momentum step, side by side.")
        {
            seed, lr, momentum, batchSize, epochs, samples, hidden, dtype, device, threads, output,
        };
        command.SetAction(parse =>
        {
            var settings = new ExperimentSettings
            {
                Seed = parse.GetValue(seed),
                LearningRate = parse.GetValue(lr),
                Momentum = parse.GetValue(momentum),
                BatchSize = parse.GetValue(batchSize),
                Epochs = parse.GetValue(epochs),
                Samples = parse.GetValue(samples),
                Hidden = parse.GetValue(hidden),
                DType = parse.GetValue(dtype),
            };
            return Run(settings, parse.GetValue(device), parse.GetValue(threads), parse.GetValue(output), console, error);
        });
        return command;
    }

    private static int Run(ExperimentSettings settings, DeviceRequest deviceRequest, int? threads, string? requestedOut,
        IAnsiConsole console, TextWriter error)
    {
        var wall = Stopwatch.StartNew();
        if (settings.BatchSize > settings.Samples)
            return ExitCodes.Refuse(error, $"--batch-size must be in [1, --samples = {settings.Samples}] (got '{settings.BatchSize}').");
        if (DeviceChoice.Resolve(deviceRequest, out string? deviceError) is not { } device)
            return ExitCodes.Refuse(error, deviceError);
        if (RunFolder.Choose(requestedOut, "train", out string? folderError) is not { } folder)
            return ExitCodes.Refuse(error, folderError);
        if (threads is int n) set_num_threads(n);

        console.MarkupLine($"Training on [bold]{device.type.ToString().ToLowerInvariant()}[/] ({get_num_threads()} threads): " +
            $"{settings.Epochs} epochs x {settings.StepsPerEpoch} steps, lr {settings.LearningRate}, momentum {settings.Momentum}, seed {settings.Seed}, {settings.DType.ToString().ToLowerInvariant()}");
        ExperimentResult result = null!;
        console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("steps", maxValue: settings.Epochs * settings.StepsPerEpoch);
                result = ChapterExperiment.Run(settings, device, done => task.Value = done);
            });

        TrainReport.Print(console, result);
        wall.Stop();

        Directory.CreateDirectory(folder);
        LossesCsv.Write(Path.Combine(folder, LossesCsv.FileName), result);
        LossPlot.Write(Path.Combine(folder, LossPlot.FileName), result);
        new Summary
        {
            Settings = SummarySettings.From(settings),
            Device = device.type.ToString().ToLowerInvariant(),
            Threads = get_num_threads(),
            TorchSharpVersion = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3) ?? "unknown",
            LibTorchVersion = __version__,
            FinalStepLoss = result.Names.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => result.StepLosses[^1][p.i]),
            FinalEpochMeanLoss = result.Names.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => result.EpochMeanLosses[^1][p.i]),
            MaxParameterDifference = result.MaxParameterDifference,
            Steps = result.StepLosses.Count,
            TrainingSeconds = result.TrainingTime.TotalSeconds,
            WallSeconds = wall.Elapsed.TotalSeconds,
            StepsPerSecond = result.StepsPerSecond,
        }.Write(Path.Combine(folder, Summary.FileName));
        RunFolder.Announce(console, folder, LossesCsv.FileName, Summary.FileName, LossPlot.FileName);
        return ExitCodes.Ok;
    }
}
