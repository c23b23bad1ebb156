using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Output;

/// <summary>trajectories.csv: <c>method,start_x,start_y,iter,x,y,f</c>, iteration 0 being the start point.</summary>
public static class TrajectoriesCsv
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "trajectories.csv";

    /// <summary>Writes every point of every path.</summary>
    public static void Write(string path, IEnumerable<Trajectory> paths) =>
        CsvFile.Write(path, ["method", "start_x", "start_y", "iter", "x", "y", "f"],
            paths.SelectMany(p => p.Points.Select(point => new[]
            {
                p.Method, CsvFile.Number(p.StartX), CsvFile.Number(p.StartY), CsvFile.Number(point.Iteration),
                CsvFile.Number(point.X), CsvFile.Number(point.Y), CsvFile.Number(point.F),
            })));
}
