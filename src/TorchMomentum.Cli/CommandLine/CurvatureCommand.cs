using System.CommandLine;
using Spectre.Console;
using TorchMomentum.Cli.Output;
using TorchMomentum.Curvature;
using TorchMomentum.Devices;
using TorchMomentum.Training;
using TorchMomentum.Validation;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>
/// <c>torchmomentum curvature</c>: the exact Hessian of the chapter's loss on its own net, at the initial weights and
/// along a run of <c>train</c>'s settings: its largest eigenvalues (lambda_max, the sharpness section 5.2's stability
/// condition lr * lambda_max &lt; 2 is about) and the sharpness of each next batch, on the CPU in float64.
/// </summary>
public static class CurvatureCommand
{
    private static readonly ExperimentSettings Defaults = new();

    /// <summary>Builds the command.</summary>
    public static Command Create(IAnsiConsole console, TextWriter error)
    {
        var (seed, lr, momentum, contestants, contestantSettings) = TrainCommand.RunChoices();
        var net = new TrainingOptions(Defaults);
        var every = Options.Count("--every", "Measure every K steps (and at the start and the end)", 4, 1, int.MaxValue);
        var top = Options.Count("--top", "Eigenvalues kept per measurement, largest first", 5, 1, NetHessian.MaxParameters);
        var force = Options.Force();
        var output = Options.Out("curvature.csv and curvature.png");
        var command = new Command("curvature", "The exact Hessian of the chapter's loss on its net, at the start and along a run: lambda_max against 2/lr, the edge of stability.")
        {
            seed, lr, momentum, contestants, contestantSettings, every, top, output, force,
        };
        foreach (var option in net.Settings) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var settings = net.Read(parse, Defaults with
            {
                Seed = parse.GetValue(seed), LearningRate = parse.GetValue(lr), Momentum = parse.GetValue(momentum), Contestants = parse.GetValue(contestants)!, ContestantSettings = parse.GetValue(contestantSettings)!,
            });
            if (settings.Problem() is { } bad) return ExitCodes.Refuse(error, bad.ForCommandLine + ".");
            int parameters = Model.Net.ParameterCount(settings.Hidden);
            if (parameters > NetHessian.MaxParameters)
                return ExitCodes.Refuse(error, $"--hidden must be at most {(NetHessian.MaxParameters - 1) / 3} for curvature, whose Hessian has 3 x hidden + 1 rows and columns (got {settings.Hidden}: {parameters} x {parameters}).");
            if ((long)settings.Samples * parameters > NetHessian.MaxGradientNumbers)
                return ExitCodes.Refuse(error, $"--samples x (3 x --hidden + 1) must be at most {NetHessian.MaxGradientNumbers} for curvature, whose per-sample gradients are one array of that many numbers (got {settings.Samples} x {parameters} = {(long)settings.Samples * parameters}).");
            long bytes = settings.EstimatedPeakBytes + NetHessian.Bytes(settings.Hidden, settings.Samples);
            if (HostMemory.Refusal(bytes, HostMemory.AvailableBytes(), $"curvature of a net of {Refusal.Name("hidden")} {settings.Hidden} on {settings.Samples} samples", "a smaller --hidden or --samples") is { } tooBig)
                return ExitCodes.Refuse(error, tooBig.ForCommandLine + ".");
            int k = Math.Min(parse.GetValue(top), parameters);
            using var folder = RunFolder.Open(parse.GetValue(output), "curvature", parse.GetValue(force), CurvatureOutputs.Files, out string? folderError);
            if (folder is null) return ExitCodes.Refuse(error, folderError);
            using var interruption = Interruption.Listen();
            console.MarkupLineInterpolated($"Measuring the Hessian of {string.Join(", ", settings.ContestantList)} ({parameters} parameters) every {parse.GetValue(every)} of {settings.TotalSteps} steps: lr {settings.LearningRate}, momentum {settings.Momentum}, batch {settings.BatchSize}, seed {settings.Seed}");
            List<CurvaturePoint> points;
            Divergence? divergence = null;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                points = [.. CurvatureAlongRun.Measure(settings, parse.GetValue(every), k, interruption.Token, d => divergence = d)];
            }
            catch (OperationCanceledException) when (interruption.Requested)
            {
                error.WriteLine($"curvature: stopped by {interruption.Name}; nothing was written.");
                return interruption.ExitCode;
            }
            double measuring = clock.Elapsed.TotalSeconds;
            clock.Restart();
            foreach (string line in CurvatureOutputs.Summary(points, settings)) console.WriteLine(line);
            CurvatureOutputs.WriteCsv(folder.Staged(CurvatureOutputs.CsvFileName), points, k);
            CurvatureOutputs.WritePlot(folder.Staged(CurvatureOutputs.PlotFileName), points, settings);
            new CurvatureSummary(SummarySettings.From(settings), settings.TotalSteps, points.Count, new CurvatureRun(measuring), clock.Elapsed.TotalSeconds)
                .Write(folder.Staged(Summary.FileName));
            folder.Publish(console, CurvatureOutputs.Files);
            if (divergence is null) return ExitCodes.Ok;
            // As train says it: the files keep the points measured before.
            error.WriteLine($"{divergence.Optimizer} diverged at step {divergence.Step}: its loss became NaN or infinite " +
                $"(last finite loss {divergence.LastFiniteLoss.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)}); {CurvatureOutputs.CsvFileName} keeps the points measured before.");
            return ExitCodes.Diverged;
        });
        return command;
    }
}
