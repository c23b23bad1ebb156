using TorchMomentum.Training;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// fit.png: what the nets learned. The chapter's data as a scatter (its first plot, plt.scatter(x, y)), each
/// contestant's prediction after training in its colour, and the curve the data come from, y = x^2, dashed.
/// </summary>
public static class FitPlot
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "fit.png";

    /// <summary>Draws the fit of <paramref name="names"/>' nets and saves it as a PNG; a net whose prediction is not finite (diverged) is left out.</summary>
    public static void Write(string path, Fit fit, IReadOnlyList<string> names)
    {
        var plot = new ScottPlot.Plot();
        var data = plot.Add.ScatterPoints(fit.DataX, fit.DataY, ScottPlot.Colors.Gray.WithAlpha(0.35));
        data.MarkerSize = 3;
        data.LegendText = "data: y = x² + 0.1·noise";
        for (int i = 0; i < names.Count; i++)
        {
            if (!fit.Predictions[i].All(double.IsFinite)) continue;
            var line = plot.Add.ScatterLine(fit.GridX, fit.Predictions[i], ScottPlot.Color.FromHex(ContestantKinds.Of(names[i]).Color));
            line.LineWidth = 2;
            line.LegendText = names[i];
            if (ContestantKinds.Of(names[i]).Dashed) line.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        var truth = plot.Add.ScatterLine(fit.GridX, fit.GridX.Select(Data.ChapterData.Curve).ToArray(), ScottPlot.Colors.Black);
        truth.LinePattern = ScottPlot.LinePattern.Dashed;
        truth.LegendText = "y = x²";
        PlotFile.Save(plot, path, "What the nets learned", "x", "y", ScottPlot.Alignment.UpperCenter);
    }
}
