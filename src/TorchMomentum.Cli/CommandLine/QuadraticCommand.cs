using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TorchMomentum.Cli.Output;
using TorchMomentum.Theory;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>
/// <c>torchmomentum quadratic</c> (section 5.4): gradient descent and momentum on f(x, y) = x^2 + 10*y^2
/// from (10, 1) and (-10, -1). A path whose step is too large diverges; it is kept up to its last finite iterate,
/// each such path is named on stderr, and the exit code is <see cref="ExitCodes.Diverged"/>.
/// </summary>
public static class QuadraticCommand
{
    /// <summary>The start points of the chapter's figure 5.5.</summary>
    public static readonly IReadOnlyList<(double X, double Y)> Starts = [(10, 1), (-10, -1)];

    /// <summary>Builds the command.</summary>
    public static Command Create(IAnsiConsole console, TextWriter error)
    {
        var iterations = Options.Count("--iterations", "Iterations per path", 15, 1, 100_000);
        var gdLr = Options.Number("--gd-lr", "Step size of plain gradient descent", 0.09, new(0));
        var lr = Options.Number("--lr", "Step size of the momentum method", 0.05, new(0));
        var momentum = Options.Number("--momentum", "Momentum parameter", 0.6, new(0, 1, MaxOpen: true));
        var force = Options.Force();
        var output = Options.Out("trajectories.csv, trajectories.png and errors.png");
        var command = new Command("quadratic", "Section 5.4: gradient descent against momentum on the bowl x^2 + 10y^2.")
        {
            iterations, gdLr, lr, momentum, output, force,
        };
        command.SetAction(parse =>
        {
            int n = parse.GetValue(iterations);
            var computed = Starts.Select(s => new Trajectory("gd", s.X, s.Y, QuadraticBowl.Path(s.X, s.Y, parse.GetValue(gdLr), 0, n)))
                .Concat(Starts.Select(s => new Trajectory("momentum", s.X, s.Y, QuadraticBowl.Path(s.X, s.Y, parse.GetValue(lr), parse.GetValue(momentum), n))))
                .ToList();
            // A path that diverges is a result: shown and written up to its last finite iterate, never as inf or NaN.
            var paths = computed.Select(FinitePart).ToList();
            int rows = paths.Max(p => p.Points.Count);

            var table = new Table().Title("f(x, y) = x^2 + 10y^2 along each path").AddColumn(new TableColumn("iter").RightAligned());
            foreach (var p in paths) table.AddColumn(new TableColumn($"{p.Method} ({p.StartX:0}, {p.StartY:0})").RightAligned());
            for (int t = 0; t < rows; t++)
                table.AddRow(new[] { t.ToString(CultureInfo.InvariantCulture) }.Concat(paths.Select(p => t < p.Points.Count ? p.Points[t].F.ToString("G6", CultureInfo.InvariantCulture) : "-")).ToArray());
            using var folder = RunFolder.Open(parse.GetValue(output), "quadratic", parse.GetValue(force), [TrajectoriesCsv.FileName, TrajectoryPlot.FileName, ErrorsPlot.FileName], out string? folderError);
            if (folder is null) return ExitCodes.Refuse(error, folderError);
            console.Write(table);
            TrajectoriesCsv.Write(folder[TrajectoriesCsv.FileName], paths);
            TrajectoryPlot.Write(folder[TrajectoryPlot.FileName], paths);
            // The error per direction from the first start point, gradient descent's path and momentum's.
            ErrorsPlot.Write(folder[ErrorsPlot.FileName], paths[0], parse.GetValue(gdLr), paths[Starts.Count], parse.GetValue(lr), parse.GetValue(momentum));
            folder.Publish(console, TrajectoriesCsv.FileName, TrajectoryPlot.FileName, ErrorsPlot.FileName);
            var diverged = computed.Zip(paths).Where(pair => pair.Second.Points.Count < pair.First.Points.Count).ToList();
            foreach (var (whole, kept) in diverged) error.WriteLine(Diverged(whole, kept.Points.Count));
            return diverged.Count == 0 ? ExitCodes.Ok : ExitCodes.Diverged;
        });
        return command;
    }

    /// <summary>
    /// The path up to its last finite iterate. f = x^2 + 10y^2 is finite exactly when x and y are and f is not
    /// too large for a double, so the first iterate with f infinite or NaN is where the path stopped being a number.
    /// </summary>
    private static Trajectory FinitePart(Trajectory path) =>
        path with { Points = path.Points.TakeWhile(p => double.IsFinite(p.F)).ToList() };

    /// <summary>One line saying where <paramref name="path"/> diverged, <paramref name="kept"/> iterates being finite.</summary>
    private static string Diverged(Trajectory path, int kept)
    {
        string method = path.Method == "gd" ? "gradient descent" : "momentum";
        double f = path.Points[kept].F;
        string how = double.IsNaN(f) ? "f became NaN" : $"f passed {Shown.Number(double.MaxValue, "G3")}, the largest double,";
        return $"{method} from ({Shown.Number(path.StartX)}, {Shown.Number(path.StartY)}) diverged at iteration {kept}: {how} " +
            $"after f = {Shown.Number(path.Points[kept - 1].F, "G4")} at iteration {kept - 1}; {TrajectoriesCsv.FileName} keeps iterations 0 to {kept - 1}.";
    }
}
