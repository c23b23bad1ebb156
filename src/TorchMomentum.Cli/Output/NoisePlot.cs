using TorchMomentum.Training;
using System.Globalization;
using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// noise.csv and noise.png: many runs of momentum with noisy gradients on f = h/2 x^2, as a band (10th to 90th
/// percentile of f) around their mean, next to plain gradient descent's at the same lr, each with the closed-form
/// floor it settles at (<see cref="NoisyMomentum.StationaryF"/>).
/// </summary>
public static class NoisePlot
{
    /// <summary>The figure's file name inside a run folder.</summary>
    public const string FileName = "noise.png";

    /// <summary>The table's file name inside a run folder.</summary>
    public const string CsvFileName = "noise.csv";

    /// <summary>Writes the table and the figure of momentum's runs and plain descent's (momentum 0).</summary>
    public static void Write(string folder, IReadOnlyList<NoisyMethod> methods)
    {
        CsvFile.Write(Path.Combine(folder, CsvFileName), ["momentum", "iter", "mean_f", "p10_f", "p90_f", "stationary_f"],
            methods.SelectMany(m => m.Runs.MeanF.Select((f, t) => new[]
            {
                CsvFile.Number(m.Momentum), CsvFile.Number(t), CsvFile.Number(f), CsvFile.Number(m.Runs.LowF[t]), CsvFile.Number(m.Runs.HighF[t]), CsvFile.Number(m.Floor),
            })));
        var plot = new ScottPlot.Plot();
        ScottPlot.Color[] colors = [ScottPlot.Color.FromHex(ContestantKinds.Of(ContestantNames.Sgd).Color), ScottPlot.Color.FromHex(ContestantKinds.Of(ContestantNames.Momentum).Color)];
        for (int i = 0; i < methods.Count; i++)
        {
            var (momentum, runs, floor) = methods[i];
            var color = colors[i % colors.Length];
            double[] ts = Enumerable.Range(0, runs.MeanF.Length).Select(t => (double)t).ToArray();
            string name = momentum == 0 ? "plain descent" : $"momentum {momentum.ToString("G3", CultureInfo.InvariantCulture)}";
            var band = plot.Add.FillY(ts, runs.LowF.Select(LogAxis.Of).ToArray(), runs.HighF.Select(LogAxis.Of).ToArray());
            band.FillColor = color.WithAlpha(0.2);
            band.LineWidth = 0;
            band.LegendText = $"{name}: 10-90% of the runs";
            var mean = plot.Add.ScatterLine(ts, runs.MeanF.Select(LogAxis.Of).ToArray(), color);
            mean.LineWidth = 2;
            mean.LegendText = $"{name}: mean f";
            var settled = plot.Add.HorizontalLine(LogAxis.Of(floor), 1.5f, color, ScottPlot.LinePattern.Dashed);
            settled.LegendText = $"{name}: closed-form floor {floor.ToString("G3", CultureInfo.InvariantCulture)}";
        }
        plot.Axes.Left.TickGenerator = LogAxis.DecadeTicks(-8, 4);
        PlotFile.Save(plot, Path.Combine(folder, FileName), "Momentum with noisy gradients: a shorter transient, a higher floor",
            "iteration", "f = h/2 x² (log scale)", ScottPlot.Alignment.UpperRight);
    }

}
