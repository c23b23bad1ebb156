using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Output;

/// <summary>velocity.csv: <c>step,velocity,geometric_sum,limit</c>, one row per step.</summary>
public static class VelocityCsv
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "velocity.csv";

    /// <summary>Writes the steps.</summary>
    public static void Write(string path, IEnumerable<VelocityStep> steps, double limit) =>
        CsvFile.Write(path, ["step", "velocity", "geometric_sum", "limit"],
            steps.Select(s => new[] { CsvFile.Number(s.Step), CsvFile.Number(s.Velocity), CsvFile.Number(s.GeometricSum), CsvFile.Number(limit) }));
}
