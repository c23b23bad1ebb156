using System.Globalization;
using System.Text;
using TorchMomentum.Training;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// losses.csv: <c>step,epoch,&lt;one column per optimizer&gt;</c>, a row per step. Numbers are written in
/// their shortest round-trip form, the same text Python's repr gives, so the file compares line by line
/// with the one scripts/chapter_momentum.py writes.
/// </summary>
public static class LossesCsv
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "losses.csv";

    /// <summary>Writes the result's per-step losses.</summary>
    public static void Write(string path, ExperimentResult result) => AtomicFile.Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), bufferSize: -1, leaveOpen: true) { NewLine = "\n" };
        writer.WriteLine(string.Join(',', new[] { "step", "epoch" }.Concat(result.Names)));
        for (int step = 0; step < result.StepLosses.Count; step++)
        {
            var losses = result.StepLosses[step].Select(l => l.ToString("R", CultureInfo.InvariantCulture));
            writer.WriteLine(string.Join(',', new[] { step.ToString(CultureInfo.InvariantCulture), result.EpochOf(step).ToString(CultureInfo.InvariantCulture) }.Concat(losses)));
        }
    });
}
