using TorchMomentum.Training;

namespace TorchMomentum.Cli.Output;

/// <summary>losses.png: the loss of every optimizer against the step, like the chapter's figure 5.8.</summary>
public static class LossPlot
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "losses.png";

    /// <summary>Draws the result's per-step losses (every step, or an even sample of a long run's) and saves them as a PNG.</summary>
    public static void Write(string path, ExperimentResult result)
    {
        var plot = new ScottPlot.Plot();
        var sampled = result.Losses.Sampled;
        double[] steps = sampled.Select(s => (double)s.Step).ToArray();
        for (int i = 0; i < result.Names.Count && sampled.Count > 0; i++)
        {
            string name = result.Names[i];
            var line = plot.Add.SignalXY(steps, sampled.Select(s => s.Losses[i]).ToArray(), ScottPlot.Color.FromHex(ContestantKinds.Of(name).Color));
            line.LegendText = name;
            line.LineWidth = 1.5f;
            // The hand-written curve lies on top of the built-in momentum one; dashes keep both visible.
            if (ContestantKinds.Of(name).Dashed) line.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        double sigma = result.Settings.LabelNoise, noiseFloor = TorchMomentum.Data.ChapterData.NoiseFloor(sigma);
        var floor = plot.Add.HorizontalLine(noiseFloor, 1, ScottPlot.Colors.Gray, ScottPlot.LinePattern.Dotted);
        floor.LegendText = $"noise floor {noiseFloor.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)} (the targets' noise variance, {sigma.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)}²)";
        PlotFile.Save(plot, path, "Loss per step", "Steps", "Loss", ScottPlot.Alignment.UpperRight);
    }
}
