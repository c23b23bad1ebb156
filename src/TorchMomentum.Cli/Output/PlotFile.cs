using TorchMomentum.Files;
namespace TorchMomentum.Cli.Output;

/// <summary>Saves a ScottPlot figure as a PNG, atomically, at one size for every figure.</summary>
public static class PlotFile
{
    /// <summary>Renders <paramref name="plot"/> and writes it to <paramref name="path"/>.</summary>
    public static void Save(ScottPlot.Plot plot, string path) =>
        AtomicFile.Write(path, stream => stream.Write(plot.GetImageBytes(900, 540, ScottPlot.ImageFormat.Png)));
}
