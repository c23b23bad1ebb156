using TorchMomentum.Training;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// losses.csv: <c>step,epoch,&lt;one column per optimizer&gt;</c>, a row per step, so the file compares line by
/// line with the one scripts/chapter_momentum.py writes.
/// </summary>
public static class LossesCsv
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "losses.csv";

    /// <summary>Writes the result's per-step losses.</summary>
    public static void Write(string path, ExperimentResult result) =>
        CsvFile.Write(path, new[] { "step", "epoch" }.Concat(result.Names),
            result.StepLosses.Select((losses, step) =>
                new[] { CsvFile.Number(step), CsvFile.Number(result.EpochOf(step)) }.Concat(losses.Select(CsvFile.Number))));
}
