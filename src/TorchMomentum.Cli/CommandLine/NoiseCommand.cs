using System.CommandLine;
using Spectre.Console;
using TorchMomentum.Cli.Output;
using TorchMomentum.Theory;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>
/// <c>torchmomentum noise</c>: momentum with noisy gradients on f = h/2 x^2 (Distill's stochastic-gradient
/// section): many seeded runs of <c>MomentumSgd</c> beside plain gradient descent at the same lr, and the closed-form
/// floor each settles at.
/// </summary>
public static class NoiseCommand
{
    /// <summary>Most runs times iterations one command may simulate.</summary>
    public const long MaxWork = 100_000_000;

    /// <summary>Builds the command.</summary>
    public static Command Create(IAnsiConsole console, TextWriter error)
    {
        var lr = Options.Number("--lr", "Learning rate", 0.05, new(0, MinOpen: true));
        var momentum = Options.Number("--momentum", "Momentum parameter", 0.9, new(0, 1, MaxOpen: true));
        var h = Options.Number("--h", "Curvature of f = h/2 x^2", NoisyMomentum.DefaultCurvature, new(0, 1e6, MinOpen: true));
        var sigma = Options.Number("--sigma", "Standard deviation of each gradient's noise", 1, new(0, 1e6));
        var start = Options.Number("--start", "Where every run starts, x_0", NoisyMomentum.DefaultStart, new(-1e6, 1e6));
        var runs = Options.Count("--runs", "Noisy runs of each method", 1000, 1, 100_000);
        var iterations = Options.Count("--iterations", "Steps of each run", 300, 1, 100_000);
        var seed = Options.Long("--seed", "Seed of the noise", 1, 0);
        var force = Options.Force();
        var output = Options.Out("noise.csv and noise.png");
        var command = new Command("noise", "Momentum with noisy gradients: a band of seeded runs, their mean, and the closed-form floor they settle at.")
        {
            lr, momentum, h, sigma, start, runs, iterations, seed, output, force,
        };
        command.SetAction(parse =>
        {
            double a = parse.GetValue(lr), m = parse.GetValue(momentum), curvature = parse.GetValue(h), noise = parse.GetValue(sigma);
            int count = parse.GetValue(runs), steps = parse.GetValue(iterations);
            if (!NoisyMomentum.Settles(a, m, curvature))
                return ExitCodes.Refuse(error, $"--lr x --h must be in (0, 2 (1 + --momentum)) = (0, {Shown.Number(2 * (1 + m))}) for the runs to settle (got {Shown.Number(a)} x {Shown.Number(curvature)} = {Shown.Number(a * curvature)}); " +
                    (a * curvature > 0 ? "make --lr smaller." : "the product is too small for a double: make --lr or --h larger."));
            // The floor lr sigma^2 / (2 h (1 - m)(...)) grows without bound as lr h shrinks: it must still be a number.
            foreach (double of in new[] { m, 0 })
                if (!double.IsFinite(NoisyMomentum.StationaryF(a, of, curvature, noise)))
                    return ExitCodes.Refuse(error, $"--lr, --h and --sigma must give a finite closed-form floor (got lr {Shown.Number(a)}, h {Shown.Number(curvature)}, sigma {Shown.Number(noise)}" +
                        $"{(of == 0 ? ", plain descent" : $", momentum {Shown.Number(of)}")}: {Shown.Number(NoisyMomentum.StationaryF(a, of, curvature, noise))}); make --sigma smaller or --lr x --h larger.");
            if ((long)count * steps > MaxWork)
                return ExitCodes.Refuse(error, $"--runs x --iterations must be at most {MaxWork} (got {count} x {steps} = {(long)count * steps}).");
            using var folder = RunFolder.Open(parse.GetValue(output), "noise", parse.GetValue(force), [NoisePlot.CsvFileName, NoisePlot.FileName], out string? folderError);
            if (folder is null) return ExitCodes.Refuse(error, folderError);
            var methods = NoisyMomentum.BesidePlainDescent(a, m, curvature, noise, parse.GetValue(start), count, steps, parse.GetValue(seed));
            var table = new Table().Title($"f = {Shown.Number(curvature)}/2 x², lr {Shown.Number(a)}, gradient noise sigma {Shown.Number(noise)}, {count} runs")
                .AddColumns("method", "mean f after 10", "after 100", $"last {steps / 2} iterations", "closed-form floor");
            foreach (var (momentumOf, simulated, floor) in methods)
                table.AddRow(momentumOf == 0 ? "plain descent" : $"momentum {Shown.Number(momentumOf)}",
                    Shown.Number(simulated.MeanF[Math.Min(10, steps)], "G3"), Shown.Number(simulated.MeanF[Math.Min(100, steps)], "G3"),
                    Shown.Number(simulated.MeanF[(steps - steps / 2)..].Average(), "G3"), Shown.Number(floor, "G3"));
            console.Write(table);
            console.WriteLine("Momentum shortens the transient, but the floor it settles at grows like lr/(1 - momentum).");
            NoisePlot.Write(folder.Path, methods);
            folder.Publish(console, NoisePlot.CsvFileName, NoisePlot.FileName);
            return ExitCodes.Ok;
        });
        return command;
    }
}
