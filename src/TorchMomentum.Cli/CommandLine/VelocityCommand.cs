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
        var output = Options.Out("velocity.csv, velocity.png, past-gradients.csv and past-gradients.png");
        var command = new Command("velocity", "Section 5.3: the velocity under a constant gradient and its limit lr*g/(1 - momentum).")
        {
            lr, momentum, gradient, steps, output, force,
        };
        command.SetAction(parse =>
        {
            double learningRate = parse.GetValue(lr), m = parse.GetValue(momentum), g = parse.GetValue(gradient);
            double limit = ConstantGradientVelocity.Limit(learningRate, m, g);
            // With momentum < 1 the velocity converges, so it can only fail to be a number by overflow: when its limit
            // (and lr*g, the first step, which is no larger) does not fit a double. Every v_t and geometric sum lies
            // between 0 and that limit, so a finite limit keeps every number written finite.
            if (!double.IsFinite(limit))
                return ExitCodes.Refuse(error, $"--lr, --g and --momentum must give a limit lr*g/(1 - momentum) within [-{Shown.Number(double.MaxValue, "G3")}, {Shown.Number(double.MaxValue, "G3")}], " +
                    $"the range of a double (got {Shown.Number(learningRate)} * {Shown.Number(g)} / (1 - {Shown.Number(m)}) = {Shown.Number(limit)}); make --lr or --g smaller.");
            // The past-gradient figure sums each drawn momentum's weights to lr/(1 - momentum): 0.99's is 100 lr.
            double widest = ConstantGradientVelocity.ComparedMomenta(m).Max();
            if (!double.IsFinite(ConstantGradientVelocity.Limit(learningRate, widest, 1)))
                return ExitCodes.Refuse(error, $"--lr must keep lr/(1 - momentum) finite for every momentum the past-gradient figure draws, up to {Shown.Number(widest)} " +
                    $"(got {Shown.Number(learningRate)} / (1 - {Shown.Number(widest)}) = {Shown.Number(ConstantGradientVelocity.Limit(learningRate, widest, 1))}); make --lr smaller.");
            var run = ConstantGradientVelocity.Run(learningRate, m, g, parse.GetValue(steps));

            var table = new Table().Title($"v_t = {Shown.Number(m, "G6")}*v_(t-1) + {Shown.Number(learningRate, "G6")}*{Shown.Number(g, "G6")}, v_0 = 0")
                .AddColumns("t", "v_t (optimizer)", "lr*g*(1-m^t)/(1-m)", "limit lr*g/(1-m)");
            using var folder = RunFolder.Open(parse.GetValue(output), "velocity", parse.GetValue(force), [VelocityCsv.FileName, VelocityPlot.FileName, PastGradientsPlot.CsvFileName, PastGradientsPlot.FileName], out string? folderError);
            if (folder is null) return ExitCodes.Refuse(error, folderError);
            foreach (var s in run)
                table.AddRow(s.Step.ToString(CultureInfo.InvariantCulture), Shown.Number(s.Velocity, "G10"),
                    Shown.Number(s.GeometricSum, "G10"), Shown.Number(limit, "G10"));
            console.Write(table);
            console.WriteLine($"The limit is {Shown.Number(1 / (1 - m), "G6")} times lr*g: the largest step momentum {Shown.Number(m, "G6")} can build from a steady gradient.");

            console.WriteLine($"The gradient k steps back counts lr*momentum^k in v_t: {Shown.Number(ConstantGradientVelocity.PastGradientWeight(learningRate, m, 0), "G4")} now, " +
                $"{Shown.Number(ConstantGradientVelocity.PastGradientWeight(learningRate, m, 10), "G4")} ten steps back; all of them sum to lr/(1 - momentum) = {Shown.Number(ConstantGradientVelocity.Limit(learningRate, m, 1), "G4")}.");

            VelocityCsv.Write(folder[VelocityCsv.FileName], run, limit);
            VelocityPlot.Write(folder[VelocityPlot.FileName], run, limit);
            PastGradientsPlot.Write(folder.Path, learningRate, m, parse.GetValue(steps));
            folder.Publish(console, VelocityCsv.FileName, VelocityPlot.FileName, PastGradientsPlot.CsvFileName, PastGradientsPlot.FileName);
            return ExitCodes.Ok;
        });
        return command;
    }
}
