using TorchMomentum.Files;

namespace TorchMomentum.Cli.Output;

/// <summary>Finishes a ScottPlot figure the way every figure here is finished, and saves it as a PNG, atomically.</summary>
public static class PlotFile
{
    /// <summary>Adds the title, axis labels and legend to <paramref name="plot"/>, renders it at one size for every figure and writes it to <paramref name="path"/>.</summary>
    public static void Save(ScottPlot.Plot plot, string path, string title, string xLabel, string yLabel, ScottPlot.Alignment legend)
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(legend);
        AtomicFile.Write(path, stream => stream.Write(plot.GetImageBytes(900, 540, ScottPlot.ImageFormat.Png)));
    }
}
