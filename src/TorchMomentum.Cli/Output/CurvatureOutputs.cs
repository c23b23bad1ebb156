using TorchMomentum.Model;
using System.Globalization;
using ScottPlot;
using TorchMomentum.Curvature;
using TorchMomentum.Training;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// What <c>curvature</c> writes. curvature.csv: <c>step,contestant,full_data_loss,lambda_1,...,lambda_k,batch_sharpness</c>,
/// a row per contestant per measured step. curvature.png: lambda_max against the step for each contestant (solid),
/// its batch sharpness (dotted), and the stability lines of section 5.2: 2/lr for plain SGD, 2(1 + momentum)/lr for
/// heavy ball, dashed. summary.json: <see cref="CurvatureSummary"/>.
/// </summary>
public static class CurvatureOutputs
{
    /// <summary>The table's name.</summary>
    public const string CsvFileName = "curvature.csv";

    /// <summary>The figure's name.</summary>
    public const string PlotFileName = "curvature.png";

    /// <summary>All three (summary.json: <see cref="CurvatureSummary"/>).</summary>
    public static readonly string[] Files = [CsvFileName, PlotFileName, Output.Summary.FileName];

    /// <summary>Writes curvature.csv.</summary>
    public static void WriteCsv(string path, IReadOnlyList<CurvaturePoint> points, int top)
    {
        CsvFile.Write(path, ["step", "contestant", "full_data_loss", .. Enumerable.Range(1, top).Select(k => $"lambda_{k}"), "batch_sharpness"],
            points.Select(p => (string[])[CsvFile.Number(p.Step), p.Contestant, CsvFile.Number(p.FullDataLoss),
                .. Enumerable.Range(0, top).Select(k => k < p.Eigenvalues.Length ? CsvFile.Number(p.Eigenvalues[k]) : ""), CsvFile.Number(p.BatchSharpness)]));
    }

    /// <summary>Draws curvature.png.</summary>
    public static void WritePlot(string path, IReadOnlyList<CurvaturePoint> points, ExperimentSettings settings)
    {
        var plot = new Plot();
        foreach (var group in points.GroupBy(p => p.Contestant))
        {
            var color = Color.FromHex(ContestantKinds.Of(group.Key).Color);
            double[] steps = group.Select(p => (double)p.Step).ToArray();
            var sharpness = plot.Add.ScatterLine(steps, group.Select(p => p.LambdaMax).ToArray(), color);
            sharpness.LineWidth = 2;
            sharpness.LegendText = $"{group.Key}: lambda_max";
            var batch = plot.Add.ScatterLine(steps, group.Select(p => p.BatchSharpness).ToArray(), color);
            batch.LinePattern = LinePattern.Dotted;
            batch.LineWidth = 1;
            batch.LegendText = $"{group.Key}: batch sharpness";
        }
        double lr = settings.LearningRate, m = settings.Momentum;
        var sgd = plot.Add.HorizontalLine(2 / lr, 1.5f, Colors.Black, LinePattern.Dashed);
        sgd.LegendText = $"2/lr = {Shown.Number(2 / lr, "G3")}: plain SGD's edge";
        if (m > 0)
        {
            var heavyBall = plot.Add.HorizontalLine(2 * (1 + m) / lr, 1.5f, Colors.Gray, LinePattern.Dashed);
            heavyBall.LegendText = $"2(1 + m)/lr = {Shown.Number(2 * (1 + m) / lr, "G3")}: heavy ball's edge";
        }
        PlotFile.Save(plot, path, $"Sharpness along the run (lr {Shown.Number(lr)}, momentum {Shown.Number(m)}, batch {settings.BatchSize})",
            "step", "largest eigenvalue of the Hessian", Alignment.UpperRight);
    }

    /// <summary>A line of the console's summary: where each contestant's lambda_max started, peaked and ended.</summary>
    public static IEnumerable<string> Summary(IReadOnlyList<CurvaturePoint> points, ExperimentSettings settings) =>
        points.GroupBy(p => p.Contestant).Select(g =>
        {
            var peak = g.MaxBy(p => p.LambdaMax)!;
            return $"{g.Key}: lambda_max {Shown.Number(g.First().LambdaMax, "G4")} at the start, {Shown.Number(peak.LambdaMax, "G4")} at its highest (step {peak.Step}), " +
                $"{Shown.Number(g.Last().LambdaMax, "G4")} after step {g.Last().Step}; lr x lambda_max {Shown.Number(settings.LearningRate * g.Last().LambdaMax, "G3")} at the end.";
        });
}

/// <summary>
/// curvature's summary.json: its settings, how many points it measured over how many steps, the clock of the run with
/// its Hessians, and what writing the table and the figure took after it (scripts/felt_speed.py reads both).
/// </summary>
/// <param name="Settings">The run's settings, as train's summary.json writes them.</param>
/// <param name="Steps">Steps of the run.</param>
/// <param name="MeasuredPoints">Rows of curvature.csv: a point per contestant per measured step.</param>
/// <param name="Run">The run's clock.</param>
/// <param name="OutputsSeconds">Seconds from the last Hessian to the files in place.</param>
public sealed record CurvatureSummary(SummarySettings Settings, long Steps, int MeasuredPoints, CurvatureRun Run, double OutputsSeconds)
{
    /// <summary>Writes it, atomically.</summary>
    public void Write(string path) => Files.AtomicFile.Write(path, stream => System.Text.Json.JsonSerializer.Serialize(stream, this, SummaryJson.Default.CurvatureSummary));
}

/// <summary>The clock of curvature's run.</summary>
/// <param name="TrainingSeconds">Training the contestants and taking every Hessian along the way (the name is the sweep's, so one script reads both).</param>
public sealed record CurvatureRun(double TrainingSeconds);
