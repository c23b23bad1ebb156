using System.Globalization;
using Spectre.Console;

namespace TorchMomentum.Cli.Output;

/// <summary>Chooses and checks the folder a run writes its results into.</summary>
public static class RunFolder
{
    /// <summary>
    /// The folder to write into: the one given, or a new folder <c>runs/&lt;date-time&gt;-&lt;command&gt;</c>.
    /// Returns null and a one-line reason when the given path cannot take the results: a folder that
    /// already holds files is refused unless <paramref name="force"/>. Creates nothing.
    /// </summary>
    private static string? Choose(string? requested, string command, bool force, out string? error)
    {
        const string optionName = "--out";
        error = null;
        if (requested is null)
        {
            string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + command;
            string candidate = Path.Combine("runs", stamp);
            for (int n = 2; Path.Exists(candidate); n++) candidate = Path.Combine("runs", $"{stamp}-{n}");
            return candidate;
        }
        if (File.Exists(requested))
        {
            error = $"{optionName} must be a folder (got '{requested}', which is a file).";
            return null;
        }
        if (!force && Directory.Exists(requested) && Directory.EnumerateFileSystemEntries(requested).Any())
        {
            error = $"{optionName} must be a new or empty folder (got '{requested}', which already holds files; add --force to replace this command's results there).";
            return null;
        }
        for (string? parent = Path.GetDirectoryName(Path.GetFullPath(requested)); parent is not null; parent = Path.GetDirectoryName(parent))
        {
            if (File.Exists(parent))
            {
                error = $"{optionName} must be a folder that can be created (got '{requested}': '{parent}' is a file).";
                return null;
            }
            if (Directory.Exists(parent)) break;
        }
        return requested;
    }

    /// <summary>
    /// Creates the folder, removing the named results of an earlier run from it (only those: anything else
    /// in the folder is the user's). Returns false and a one-line reason when it cannot.
    /// </summary>
    private static bool Prepare(string folder, IEnumerable<string> results, out string? error)
    {
        error = null;
        try
        {
            Directory.CreateDirectory(folder);
            foreach (var file in results) File.Delete(Path.Combine(folder, file));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"--out must be a folder that can be written (got '{folder}': {e.Message}).";
            return false;
        }
    }

    /// <summary>
    /// The folder a command writes <paramref name="results"/> into, chosen, checked and created, with the
    /// command's own results of an earlier run removed. Returns null and a one-line reason when the
    /// requested path cannot take them; then nothing was created.
    /// </summary>
    public static string? Open(string? requested, string command, bool force, IReadOnlyList<string> results, out string? error) =>
        Choose(requested, command, force, out error) is { } folder && Prepare(folder, results, out error) ? folder : null;

    /// <summary>Tells the user which files a command wrote and where.</summary>
    public static void Announce(IAnsiConsole console, string folder, params string[] files) =>
        console.MarkupLineInterpolated($"Wrote {string.Join(", ", files)} to [bold]{folder}[/]");
}
