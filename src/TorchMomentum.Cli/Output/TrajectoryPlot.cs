using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Output;

/// <summary>trajectories.png: contour lines of x^2 + 10y^2 with every path drawn over them (the chapter's figure 5.5).</summary>
public static class TrajectoryPlot
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "trajectories.png";

    /// <summary>Draws the paths and saves the figure.</summary>
    public static void Write(string path, IReadOnlyList<Trajectory> paths)
    {
        var plot = new ScottPlot.Plot();
        // The level set x^2 + 10y^2 = c is an ellipse with semi-axes sqrt(c) and sqrt(c/10).
        foreach (double level in new[] { 1, 4, 10, 25, 50, 75, 100, 125, 150 })
        {
            var contour = plot.Add.Ellipse(0, 0, Math.Sqrt(level), Math.Sqrt(level / 10));
            contour.LineColor = ScottPlot.Colors.Gray.WithAlpha(0.5);
            contour.LineWidth = 1;
        }
        var colors = new Dictionary<string, ScottPlot.Color> { ["gd"] = ScottPlot.Colors.Red, ["momentum"] = ScottPlot.Colors.Blue };
        // A diverging path runs off to 1e150 and beyond; drawn whole, it would shrink the bowl to a dot. Each path is
        // drawn while f stays within 100 times the largest f at a start, and its legend says where it leaves.
        double shown = 100 * paths.Max(p => p.Points[0].F);
        foreach (var trajectory in paths)
        {
            var inView = trajectory.Points.TakeWhile(p => p.F <= shown).ToList();
            var line = plot.Add.Scatter(inView.Select(p => p.X).ToArray(), inView.Select(p => p.Y).ToArray(), colors[trajectory.Method]);
            line.MarkerSize = 5;
            line.LegendText = $"{trajectory.Method} from ({trajectory.StartX:0}, {trajectory.StartY:0})" +
                (inView.Count < trajectory.Points.Count ? $", leaves the figure after iteration {inView.Count - 1}" : "");
        }
        PlotFile.Save(plot, path, "Gradient descent (red) and momentum (blue) on x² + 10y²", "x", "y", ScottPlot.Alignment.UpperRight);
    }
}
