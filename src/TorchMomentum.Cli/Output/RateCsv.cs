using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// rate.csv: one row per case (<c>grid</c> for the --h x --momentum table, <c>polyak</c> and <c>best_gd</c> for
/// the optimal parameters at h = mu and h = L), eigenvalues as real and imaginary parts.
/// </summary>
public static class RateCsv
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "rate.csv";

    /// <summary>Writes the rows.</summary>
    public static void Write(string path, IEnumerable<RateRow> rows) =>
        CsvFile.Write(path, ["case", "h", "lr", "momentum", "lambda1_re", "lambda1_im", "lambda2_re", "lambda2_im", "rho", "measured_rate", "difference"],
            rows.Select(r => new[]
            {
                r.Case, CsvFile.Number(r.H), CsvFile.Number(r.Lr), CsvFile.Number(r.Momentum),
                CsvFile.Number(r.First.Real), CsvFile.Number(r.First.Imaginary), CsvFile.Number(r.Second.Real), CsvFile.Number(r.Second.Imaginary),
                CsvFile.Number(r.Rho), CsvFile.Number(r.Measured), CsvFile.Number(r.Difference),
            }));
}
