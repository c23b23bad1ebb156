using TorchMomentum.Training;
using System.Globalization;
using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// errors.png (Distill's decomposition, section 5.2): the distance to the minimum along each eigen-direction of the
/// bowl, |x_t - x*| and |y_t - y*|, for gradient descent and momentum, on a log scale, each with the envelope
/// |x_0| rho^t that its direction's spectral radius predicts, and each direction's critical-damping momentum.
/// </summary>
public static class ErrorsPlot
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "errors.png";

    /// <summary>Draws the errors of <paramref name="gd"/> (at <paramref name="gdLr"/>) and <paramref name="momentum"/> (at <paramref name="lr"/>, <paramref name="m"/>).</summary>
    public static void Write(string path, Trajectory gd, double gdLr, Trajectory momentum, double lr, double m)
    {
        var plot = new ScottPlot.Plot();
        var (hx, hy) = QuadraticBowl.Curvatures();
        var paths = new[] { (gd, gdLr, 0.0, ScottPlot.Color.FromHex(ContestantKinds.Of(ContestantNames.Sgd).Color)), (momentum, lr, m, ScottPlot.Color.FromHex(ContestantKinds.Of(ContestantNames.Momentum).Color)) };
        foreach (var (trajectory, rate, beta, color) in paths)
        {
            string method = beta == 0 ? "gradient descent" : "momentum";
            foreach (var (direction, h, pattern) in new[] { ("x", hx, ScottPlot.LinePattern.Solid), ("y", hy, ScottPlot.LinePattern.Dotted) })
            {
                double[] ts = trajectory.Points.Select(p => (double)p.Iteration).ToArray();
                double[] errors = trajectory.Points.Select(p => Math.Abs(direction == "x" ? p.X : p.Y)).ToArray();
                var line = plot.Add.ScatterLine(ts, errors.Select(LogAxis.Of).ToArray(), color);
                line.LinePattern = pattern;
                line.LineWidth = 2;
                double rho = HeavyBall.SpectralRadius(h, rate, beta);
                line.LegendText = $"{method}, |{direction}_t|: rho {rho.ToString("0.###", CultureInfo.InvariantCulture)}" +
                    (beta == 0 ? "" : $", critical momentum (1 - sqrt(lr h))^2 = {HeavyBall.CriticalMomentum(h, rate).ToString("0.###", CultureInfo.InvariantCulture)}");
                var envelope = plot.Add.ScatterLine(ts, HeavyBall.Envelope(errors[0], h, rate, beta, ts.Length - 1).Select(LogAxis.Of).ToArray(), color.WithAlpha(0.5));
                envelope.LinePattern = ScottPlot.LinePattern.Dashed;
                envelope.LineWidth = 1;
            }
        }
        plot.Axes.Left.TickGenerator = LogAxis.DecadeTicks(-16, 4);
        PlotFile.Save(plot, path, "Distance to the minimum along each direction, with its envelope |e_0| rho^t (dashed)",
            "iteration", "|x_t - x*| and |y_t - y*| (log scale)", ScottPlot.Alignment.LowerLeft);
    }

}
