using TorchMomentum.Model;
using System.Globalization;
using Spectre.Console;
using TorchMomentum.Training;

namespace TorchMomentum.Cli.Output;

/// <summary>The console report of a train run: a per-epoch table of mean losses and a summary.</summary>
public static class TrainReport
{
    /// <summary>Prints the table and the summary lines.</summary>
    public static void Print(IAnsiConsole console, ExperimentResult result)
    {
        var table = new Table().Title("Mean loss per epoch").AddColumn(new TableColumn("epoch").RightAligned());
        foreach (var name in result.Names) table.AddColumn(new TableColumn(name).RightAligned());
        var means = result.Losses.EpochMeanLosses;
        for (int epoch = 0; epoch < means.Count; epoch++)
            table.AddRow(new[] { epoch.ToString(CultureInfo.InvariantCulture) }.Concat(means[epoch].Select(Format)).ToArray());
        console.Write(table);

        if (result.Losses.LastStepLosses is { } last)
            console.WriteLine("Final step loss: " + string.Join(", ", result.Names.Select((n, i) => $"{n} {Format(last[i])}")));
        if (means.Count > 0)
        {
            // How far each contestant ended above what no net can beat on average (the targets' noise variance).
            double floor = TorchMomentum.Data.ChapterData.NoiseFloor(result.Settings.LabelNoise);
            console.WriteLine($"Last epoch above the noise floor {floor.ToString("G3", CultureInfo.InvariantCulture)}: " +
                string.Join(", ", result.Names.Select((n, i) => $"{n} {(means[^1][i] - floor).ToString("+0.000000;-0.000000", CultureInfo.InvariantCulture)}")));
        }
        if (result.FullDataLosses.Length == result.Names.Count && result.Divergence is null)
            console.WriteLine("Full-data loss at the end (schedule-free at x, ema at its average): " +
                string.Join(", ", result.Names.Select((n, i) => $"{n} {Format(result.FullDataLosses[i])}")));
        if (result.MaxParameterDifference is { } difference)
            console.WriteLine($"Largest |handwritten - momentum| parameter difference: {difference.ToString("G3", CultureInfo.InvariantCulture)}");
        console.WriteLine($"Training: {result.StepsTimed} steps in {result.TrainingTime.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)} s " +
            $"({result.StepsPerSecond.ToString("F0", CultureInfo.InvariantCulture)} steps/s, each step trains all {result.Names.Count} nets)");
    }

    private static string Format(double loss) => Shown.Number(loss, "F6");
}
