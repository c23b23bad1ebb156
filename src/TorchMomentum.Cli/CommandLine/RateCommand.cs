using System.CommandLine;
using System.Globalization;
using System.Numerics;
using Spectre.Console;
using TorchMomentum.Cli.Output;
using TorchMomentum.Theory;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>
/// <c>torchmomentum rate</c> (section 5.2): the iteration matrix of heavy-ball momentum on f = h/2 x^2, its
/// eigenvalues and spectral radius, against the rate the iteration really converges at; and Polyak's
/// optimal parameters for curvatures in [mu, L] against the best plain gradient descent.
/// </summary>
public static class RateCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(IAnsiConsole console, TextWriter error)
    {
        var curvatures = Options.Numbers("--h", "Curvatures h of f = h/2 x^2", [1, 10], new(0, MinOpen: true));
        var lr = Options.Number("--lr", "Learning rate", 0.05, new(0));
        var momenta = Options.Numbers("--momentum", "Momentum parameters", [0, 0.3, 0.6, 0.9], new(0, 1, MaxOpen: true));
        var steps = Options.Count("--steps", "Iterations from x_0 = x_1 = 1", 200, 8, 100_000);
        var mu = Options.Number("--mu", "Smallest curvature for Polyak's parameters", 1, new(0, MinOpen: true));
        var l = Options.Number("--L", "Largest curvature for Polyak's parameters, at least --mu", 10, new(0, MinOpen: true));
        var force = Options.Force();
        var output = Options.Out("rate.csv and rate.png");
        var command = new Command("rate", "Section 5.2: the iteration matrix A, its spectral radius and the measured rate of convergence.")
        {
            curvatures, lr, momenta, steps, mu, l, output, force,
        };
        command.SetAction(parse =>
        {
            double smallest = parse.GetValue(mu), largest = parse.GetValue(l);
            if (largest < smallest)
                return ExitCodes.Refuse(error, $"--L must be a number in [--mu = {Shown.Number(smallest, "G4")}, inf) (got '{Shown.Number(largest, "G4")}').");
            // Beyond this condition number Polyak's momentum rounds to 1 in double precision: no method left to run.
            const double maxKappa = 1e12;
            if (!(largest / smallest <= maxKappa))
                return ExitCodes.Refuse(error, $"--L / --mu must be in [1, {Shown.Number(maxKappa, "G4")}] (got {Shown.Number(largest, "G4")} / {Shown.Number(smallest, "G4")} = {Shown.Number(largest / smallest, "G4")}).");
            int n = parse.GetValue(steps);
            double learningRate = parse.GetValue(lr);
            // A's eigenvalues solve lambda^2 - (1 - lr*h + momentum) lambda + momentum = 0 (section 5.2): the square of
            // lr*h must be a double, so lr*h is bounded well below 1e154; a step 1e100 times too large says it all.
            const double maxStep = 1e100;
            if (parse.GetValue(curvatures)!.FirstOrDefault(h => !(learningRate * h <= maxStep)) is var tooSteep && tooSteep > 0)
                return ExitCodes.Refuse(error, $"--lr x --h must be at most {Shown.Number(maxStep, "G4")} (got {Shown.Number(learningRate, "G4")} x {Shown.Number(tooSteep, "G4")} = {Shown.Number(learningRate * tooSteep, "G4")}): A's eigenvalues would not fit a double.");
            var grid = parse.GetValue(curvatures)!.SelectMany(h => parse.GetValue(momenta)!.Select(m => RateRow.Measure("grid", h, learningRate, m, n))).ToList();
            var (polyakLr, polyakMomentum, _) = HeavyBall.Optimal(smallest, largest);
            var (gdLr, _) = HeavyBall.OptimalGradientDescent(smallest, largest);
            var optimal = new[] { smallest, largest }.Select(h => RateRow.Measure("polyak", h, polyakLr, polyakMomentum, n))
                .Concat(new[] { smallest, largest }.Select(h => RateRow.Measure("best_gd", h, gdLr, 0, n))).ToList();

            using var folder = RunFolder.Open(parse.GetValue(output), "rate", parse.GetValue(force), [RateCsv.FileName, RatePlot.FileName], out string? folderError);
            if (folder is null) return ExitCodes.Refuse(error, folderError);
            PrintGrid(console, grid, n);
            PrintOptimal(console, smallest, largest, optimal);
            RateCsv.Write(folder[RateCsv.FileName], grid.Concat(optimal));
            RatePlot.Write(folder[RatePlot.FileName], grid, learningRate);
            folder.Publish(console, RateCsv.FileName, RatePlot.FileName);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void PrintGrid(IAnsiConsole console, IEnumerable<RateRow> rows, int steps)
    {
        var table = new Table().Title($"Heavy ball on f = h/2 x^2: rho(A) against the rate measured over {steps} steps")
            .AddColumns("h", "lr", "momentum", "eigenvalues of A", "rho(A)", "measured", "difference");
        foreach (var r in rows)
            table.AddRow(Shown.Number(r.H, "G4"), Shown.Number(r.Lr, "G4"), Shown.Number(r.Momentum, "G4"), $"{Shown.Number(r.First, "G4")}, {Shown.Number(r.Second, "G4")}",
                Shown.Number(r.Rho, "F6"), Shown.Rate(r.Measured, "F6"), r.Difference is { } d ? Shown.Number(d, "+0.0e+0;-0.0e+0;0") : "-");
        console.Write(table);
    }

    private static void PrintOptimal(IAnsiConsole console, double mu, double l, IReadOnlyList<RateRow> rows)
    {
        var (lr, momentum, rate) = HeavyBall.Optimal(mu, l);
        var (gdLr, gdRate) = HeavyBall.OptimalGradientDescent(mu, l);
        var table = new Table().Title(Markup.Escape($"Best parameters for curvatures in [{Shown.Number(mu, "G4")}, {Shown.Number(l, "G4")}] (kappa = {Shown.Number(l / mu, "G4")})"))
            .AddColumns("method", "lr", "momentum", "theory rate", "measured (worst h)");
        // The slowest of a kind's paths: one that diverged is the worst, one that reached 0 too soon to measure the best.
        string Worst(string kind) => Shown.Rate(rows.Where(r => r.Case == kind)
            .MaxBy(r => r.Measured.DivergedWithin is not null ? double.PositiveInfinity : r.Measured.Rate ?? -1)!.Measured, "F6");
        table.AddRow("heavy ball, Polyak", Shown.Number(lr, "G4"), Shown.Number(momentum, "G4"), Shown.Number(rate, "F6"), Worst("polyak"));
        table.AddRow("gradient descent", Shown.Number(gdLr, "G4"), "0", Shown.Number(gdRate, "F6"), Worst("best_gd"));
        console.Write(table);
        console.WriteLine("Polyak's parameters give A a repeated eigenvalue: the iterates decay as t*rho^t, so the measured rate reads slightly high.");
    }
}
