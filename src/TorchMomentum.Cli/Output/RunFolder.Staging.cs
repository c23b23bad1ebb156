using TorchMomentum.Files;
using Spectre.Console;

namespace TorchMomentum.Cli.Output;

/// <summary>Its staged results: written beside their final names, moved into place together when the run is complete.</summary>
public sealed partial class RunFolder
{
    /// <summary>
    /// The temporary path to write result <paramref name="name"/> to: it lies beside its final name, invisible to
    /// the user as a result, until <see cref="Publish(IAnsiConsole, string[])"/> moves every staged result into place together.
    /// </summary>
    public string Staged(string name)
    {
        string temporary = AtomicFile.TemporaryPath(this[name]);
        staged.Add((temporary, this[name]));
        return temporary;
    }

    /// <summary>
    /// The run's results are complete: moves the staged ones into place (each rename is atomic; all of them take
    /// milliseconds), deletes the earlier results that --force set aside, and tells the user which files the
    /// command wrote and where. Every command that writes results ends with it.
    /// </summary>
    public void Publish(IAnsiConsole console, params string[] files)
    {
        MoveIntoPlace();
        console.MarkupLineInterpolated($"Wrote {string.Join(", ", files)} to [bold]{Path}[/]");
    }

    private void MoveIntoPlace()
    {
        foreach (var (temporary, final) in staged)
        {
            Change();
            File.Move(temporary, final, overwrite: true);
        }
        staged.Clear();
        published = true;
        if (!Directory.Exists(this[EarlierFolderName])) return;
        // Renamed first, so that a kill while deleting never leaves earlier results to be put back over these.
        Change();
        Directory.Move(this[EarlierFolderName], this[DiscardedFolderName]);
        Change();
        Directory.Delete(this[DiscardedFolderName], recursive: true);
    }

    private void RemoveTemporaries()
    {
        foreach (var file in results)
            foreach (var temporary in Directory.EnumerateFiles(Path, file + AtomicFile.TemporaryPattern)) File.Delete(temporary);
    }
}
