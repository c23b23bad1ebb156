using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// rate.png: rho(A) against the momentum for each h at the given lr, with the measured rates as points (none for
/// a case whose path reached 0 or overflowed too soon to measure one).
/// </summary>
public static class RatePlot
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "rate.png";

    /// <summary>Draws the curves and the measured points and saves the figure.</summary>
    public static void Write(string path, IReadOnlyList<RateRow> grid, double lr)
    {
        var plot = new ScottPlot.Plot();
        var momenta = Enumerable.Range(0, 200).Select(i => i * 0.995 / 199).ToArray();
        var palette = new ScottPlot.Palettes.Category10();
        int index = 0;
        foreach (var group in grid.GroupBy(r => r.H))
        {
            var color = palette.GetColor(index++);
            var curve = plot.Add.ScatterLine(momenta, momenta.Select(m => HeavyBall.SpectralRadius(group.Key, lr, m)).ToArray(), color);
            curve.LegendText = $"rho(A), h = {group.Key}";
            var rated = group.Where(r => r.Measured.Rate is not null).ToList();
            var measured = plot.Add.ScatterPoints(rated.Select(r => r.Momentum).ToArray(), rated.Select(r => r.Measured.Rate!.Value).ToArray(), color);
            measured.MarkerSize = 9;
            measured.MarkerShape = ScottPlot.MarkerShape.OpenCircle;
            measured.LegendText = $"measured, h = {group.Key}";
        }
        PlotFile.Save(plot, path, $"Spectral radius of A against momentum (lr = {lr})", "momentum", "rate", ScottPlot.Alignment.LowerRight);
    }
}
