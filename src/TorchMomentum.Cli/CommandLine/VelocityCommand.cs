using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TorchMomentum.Cli.Output;
using TorchMomentum.Theory;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>
/// <c>torchmomentum velocity</c> (section 5.3): under a constant gradient the velocity grows as a geometric
/// series towards lr*g/(1 - momentum).
/// </summary>
public static class VelocityCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(IAnsiConsole console, TextWriter error)
    {
        var lr = Options.Number("--lr", "Learning rate", 0.1, new(0));
        var momentum = Options.Number("--momentum", "Momentum parameter", 0.9, new(0, 1, MaxOpen: true));
        var gradient = Options.Number("--g", "The constant gradient", 1, new(double.MinValue, double.MaxValue));
        var steps = Options.Count("--steps", "Steps from v_0 = 0", 50, 1, 100_000);
        var force = Options.Force();
        var output = Options.Out("velocity.csv and velocity.png");
        var command = new Command("velocity", "Section 5.3: the velocity under a constant gradient and its limit lr*g/(1 - momentum).")
        {
            lr, momentum, gradient, steps, output, force,
        };
        command.SetAction(parse =>
        {
            double rate = parse.GetValue(lr), beta = parse.GetValue(momentum), g = parse.GetValue(gradient);
            var run = ConstantGradientVelocity.Run(rate, beta, g, parse.GetValue(steps));
            double limit = ConstantGradientVelocity.Limit(rate, beta, g);

            var table = new Table().Title($"v_t = {Show(beta)}*v_(t-1) + {Show(rate)}*{Show(g)}, v_0 = 0")
                .AddColumns("t", "v_t (optimizer)", "lr*g*(1-m^t)/(1-m)", "limit lr*g/(1-m)");
            using var folder = RunFolder.Open(parse.GetValue(output), "velocity", parse.GetValue(force), [VelocityCsv.FileName, VelocityPlot.FileName], out string? folderError);
            if (folder is null) return ExitCodes.Refuse(error, folderError);
            foreach (var s in run)
                table.AddRow(s.Step.ToString(CultureInfo.InvariantCulture), s.Velocity.ToString("G10", CultureInfo.InvariantCulture),
                    s.GeometricSum.ToString("G10", CultureInfo.InvariantCulture), limit.ToString("G10", CultureInfo.InvariantCulture));
            console.Write(table);
            console.WriteLine($"The limit is {Show(1 / (1 - beta))} times lr*g: the largest step momentum {Show(beta)} can build from a steady gradient.");

            VelocityCsv.Write(folder[VelocityCsv.FileName], run, limit);
            VelocityPlot.Write(folder[VelocityPlot.FileName], run, limit);
            folder.Announce(console, VelocityCsv.FileName, VelocityPlot.FileName);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Show(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
