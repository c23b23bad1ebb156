using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Output;

/// <summary>velocity.png: the velocity against the step, approaching its limit.</summary>
public static class VelocityPlot
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "velocity.png";

    /// <summary>Draws the velocity and the limit and saves the figure.</summary>
    public static void Write(string path, IReadOnlyList<VelocityStep> steps, double limit)
    {
        var plot = new ScottPlot.Plot();
        var velocity = plot.Add.Scatter(steps.Select(s => (double)s.Step).ToArray(), steps.Select(s => s.Velocity).ToArray());
        velocity.LegendText = "v_t";
        var line = plot.Add.HorizontalLine(limit);
        line.LinePattern = ScottPlot.LinePattern.Dashed;
        line.LegendText = "lr*g/(1 - momentum)";
        PlotFile.Save(plot, path, "Velocity under a constant gradient", "step t", "velocity", ScottPlot.Alignment.LowerRight);
    }
}
