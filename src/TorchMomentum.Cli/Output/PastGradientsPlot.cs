using System.Globalization;
using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// past-gradients.png and past-gradients.csv (section 5.3, d2l's beta^t plot): how much the gradient k steps back
/// counts in the velocity, lr*momentum^k, for a few momenta, each labelled with the sum of all its weights,
/// lr/(1 - momentum): a larger momentum remembers further back and adds up to a bigger step.
/// </summary>
public static class PastGradientsPlot
{
    /// <summary>The figure's file name inside a run folder.</summary>
    public const string FileName = "past-gradients.png";

    /// <summary>The table's file name inside a run folder.</summary>
    public const string CsvFileName = "past-gradients.csv";

    /// <summary>Measures the weights of <paramref name="steps"/> past gradients for each of <see cref="ConstantGradientVelocity.ComparedMomenta"/> and writes the table and the figure.</summary>
    public static void Write(string folder, double lr, double asked, int steps)
    {
        var momenta = ConstantGradientVelocity.ComparedMomenta(asked);
        var weights = momenta.Select(m => ConstantGradientVelocity.PastGradientWeights(lr, m, steps)).ToArray();
        CsvFile.Write(Path.Combine(folder, CsvFileName), ["k", "momentum", "weight", "lr_times_momentum_to_the_k", "sum_of_all_weights"],
            momenta.SelectMany((m, i) => weights[i].Select((w, k) => new[]
            {
                CsvFile.Number(k), CsvFile.Number(m), CsvFile.Number(w),
                CsvFile.Number(ConstantGradientVelocity.PastGradientWeight(lr, m, k)), CsvFile.Number(ConstantGradientVelocity.Limit(lr, m, g: 1)),
            })));
        var plot = new ScottPlot.Plot();
        double[] ks = Enumerable.Range(0, steps).Select(k => (double)k).ToArray();
        for (int i = 0; i < momenta.Length; i++)
        {
            var line = plot.Add.Scatter(ks, weights[i]);
            line.MarkerSize = 4;
            line.LegendText = $"momentum {momenta[i].ToString("G3", CultureInfo.InvariantCulture)}: all weights sum to lr/(1 - m) = " +
                ConstantGradientVelocity.Limit(lr, momenta[i], g: 1).ToString("G3", CultureInfo.InvariantCulture);
        }
        PlotFile.Save(plot, Path.Combine(folder, FileName), "How much the gradient k steps back counts in the velocity: lr * momentum^k",
            "k, steps back", "weight in v_t", ScottPlot.Alignment.UpperRight);
    }
}
