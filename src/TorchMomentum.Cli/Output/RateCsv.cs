using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// rate.csv: one row per case (<c>grid</c> for the --h x --momentum table, <c>polyak</c> and <c>best_gd</c> for
/// the optimal parameters at h = mu and h = L), eigenvalues as real and imaginary parts. measured_rate and difference
/// are empty when no rate could be measured; converged_within and diverged_within give the step from which the
/// iterates were 0 or not finite (<see cref="RateMeasurement"/>), empty when they never were.
/// </summary>
public static class RateCsv
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "rate.csv";

    /// <summary>Writes the rows.</summary>
    public static void Write(string path, IEnumerable<RateRow> rows) =>
        CsvFile.Write(path, ["case", "h", "lr", "momentum", "lambda1_re", "lambda1_im", "lambda2_re", "lambda2_im", "rho", "measured_rate", "difference", "converged_within", "diverged_within"],
            rows.Select(r => new[]
            {
                r.Case, CsvFile.Number(r.H), CsvFile.Number(r.Lr), CsvFile.Number(r.Momentum),
                CsvFile.Number(r.First.Real), CsvFile.Number(r.First.Imaginary), CsvFile.Number(r.Second.Real), CsvFile.Number(r.Second.Imaginary),
                CsvFile.Number(r.Rho), Optional(r.Measured.Rate), Optional(r.Difference),
                Optional(r.Measured.ConvergedWithin), Optional(r.Measured.DivergedWithin),
            }));

    private static string Optional(double? value) => value is { } v ? CsvFile.Number(v) : "";

    private static string Optional(int? value) => value is { } v ? CsvFile.Number(v) : "";
}
