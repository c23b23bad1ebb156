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
                return ExitCodes.Refuse(error, $"--L must be a number in [--mu = {Show(smallest)}, inf) (got '{Show(largest)}').");
            // Beyond this condition number Polyak's momentum rounds to 1 in double precision: no method left to run.
            const double maxKappa = 1e12;
            if (!(largest / smallest <= maxKappa))
                return ExitCodes.Refuse(error, $"--L / --mu must be in [1, {Show(maxKappa)}] (got {Show(largest)} / {Show(smallest)} = {Show(largest / smallest)}).");
            int n = parse.GetValue(steps);
            double rate = parse.GetValue(lr);
            var grid = parse.GetValue(curvatures)!.SelectMany(h => parse.GetValue(momenta)!.Select(m => RateRow.Measure("grid", h, rate, m, n))).ToList();
            var (polyakLr, polyakMomentum, _) = HeavyBall.Optimal(smallest, largest);
            var (gdLr, _) = HeavyBall.OptimalGradientDescent(smallest, largest);
            var optimal = new[] { smallest, largest }.Select(h => RateRow.Measure("polyak", h, polyakLr, polyakMomentum, n))
                .Concat(new[] { smallest, largest }.Select(h => RateRow.Measure("best_gd", h, gdLr, 0, n))).ToList();

            using var folder = RunFolder.Open(parse.GetValue(output), "rate", parse.GetValue(force), [RateCsv.FileName, RatePlot.FileName], out string? folderError);
            if (folder is null) return ExitCodes.Refuse(error, folderError);
            PrintGrid(console, grid, n);
            PrintOptimal(console, smallest, largest, optimal);
            RateCsv.Write(folder[RateCsv.FileName], grid.Concat(optimal));
            RatePlot.Write(folder[RatePlot.FileName], grid, rate);
            folder.Announce(console, RateCsv.FileName, RatePlot.FileName);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void PrintGrid(IAnsiConsole console, IEnumerable<RateRow> rows, int steps)
    {
        var table = new Table().Title($"Heavy ball on f = h/2 x^2: rho(A) against the rate measured over {steps} steps")
            .AddColumns("h", "lr", "momentum", "eigenvalues of A", "rho(A)", "measured", "difference");
        foreach (var r in rows)
            table.AddRow(Show(r.H), Show(r.Lr), Show(r.Momentum), $"{Show(r.First)}, {Show(r.Second)}",
                r.Rho.ToString("F6", CultureInfo.InvariantCulture), r.Measured.ToString("F6", CultureInfo.InvariantCulture), r.Difference.ToString("+0.0e+0;-0.0e+0;0", CultureInfo.InvariantCulture));
        console.Write(table);
    }

    private static void PrintOptimal(IAnsiConsole console, double mu, double l, IReadOnlyList<RateRow> rows)
    {
        var (lr, momentum, rate) = HeavyBall.Optimal(mu, l);
        var (gdLr, gdRate) = HeavyBall.OptimalGradientDescent(mu, l);
        var table = new Table().Title(Markup.Escape($"Best parameters for curvatures in [{Show(mu)}, {Show(l)}] (kappa = {Show(l / mu)})"))
            .AddColumns("method", "lr", "momentum", "theory rate", "measured (worst h)");
        double Worst(string kind) => rows.Where(r => r.Case == kind).Max(r => r.Measured);
        table.AddRow("heavy ball, Polyak", Show(lr), Show(momentum), rate.ToString("F6", CultureInfo.InvariantCulture), Worst("polyak").ToString("F6", CultureInfo.InvariantCulture));
        table.AddRow("gradient descent", Show(gdLr), "0", gdRate.ToString("F6", CultureInfo.InvariantCulture), Worst("best_gd").ToString("F6", CultureInfo.InvariantCulture));
        console.Write(table);
        console.WriteLine("Polyak's parameters give A a repeated eigenvalue: the iterates decay as t*rho^t, so the measured rate reads slightly high.");
    }

    private static string Show(double v) => v.ToString("G4", CultureInfo.InvariantCulture);

    private static string Show(Complex z) => z.Imaginary == 0 ? Show(z.Real)
        : $"{Show(z.Real)}{(z.Imaginary < 0 ? "-" : "+")}{Show(Math.Abs(z.Imaginary))}i";
}

/// <summary>One case of the rate command: theory and measurement.</summary>
public sealed record RateRow(string Case, double H, double Lr, double Momentum, Complex First, Complex Second, double Rho, double Measured)
{
    /// <summary>Measured rate minus rho(A).</summary>
    public double Difference => Measured - Rho;

    /// <summary>Computes rho(A) and runs the iteration to measure the rate.</summary>
    public static RateRow Measure(string kind, double h, double lr, double momentum, int steps)
    {
        var (first, second) = HeavyBall.Eigenvalues(h, lr, momentum);
        return new RateRow(kind, h, lr, momentum, first, second, HeavyBall.SpectralRadius(h, lr, momentum),
            HeavyBall.MeasuredRate(HeavyBall.Iterate(h, lr, momentum, steps)));
    }
}
