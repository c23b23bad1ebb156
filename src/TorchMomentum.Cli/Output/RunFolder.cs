using TorchMomentum.Files;
using System.Globalization;
using Spectre.Console;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// The folder a command writes its results into, owned by this process until disposed: an exclusive OS lock
/// (flock on Linux, a sharing lock on Windows) on a lock file named for the folder's full path keeps a second
/// run, a resume or a second start on the same folder from writing into it at the same time. The lock files
/// live in the temporary folder, not in the run folder (which keeps only the results and the user's files),
/// and are never deleted: deleting one would let a process that opened it just before lock a file that is
/// no longer the folder's. The OS drops a lock when its process ends, killed or not.
/// </summary>
public sealed class RunFolder : IDisposable
{
    /// <summary>Where the lock files are.</summary>
    public static readonly string LockFolder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "torchmomentum-locks");

    private readonly FileStream lockFile;

    private RunFolder(string path, FileStream lockFile)
    {
        Path = path;
        this.lockFile = lockFile;
    }

    /// <summary>The folder's path, as given or chosen.</summary>
    public string Path { get; }

    /// <summary>The path of <paramref name="name"/> inside the folder.</summary>
    public string this[string name] => System.IO.Path.Combine(Path, name);

    /// <summary>
    /// The folder a new run writes <paramref name="results"/> into: the one requested, or a new folder
    /// <c>runs/&lt;date-time&gt;-&lt;command&gt;</c>; created, locked, and with the command's own results of an
    /// earlier run removed (only with <paramref name="force"/>: otherwise a folder that holds files is refused).
    /// Returns null and a one-line reason when the path cannot take them; then nothing of the user's changed.
    /// </summary>
    public static RunFolder? Open(string? requested, string command, bool force, IReadOnlyList<string> results, out string? error)
    {
        const string option = "--out";
        string folder = requested ?? NewRunPath(command);
        if (string.IsNullOrWhiteSpace(folder))
            return Fail($"{option} must be a folder path (got '{folder}').", out error);
        if (File.Exists(folder))
            return Fail($"{option} must be a folder (got '{folder}', which is a file).", out error);
        string taken = $"{option} must be a new or empty folder (got '{folder}', which already holds files; add --force to replace this command's results there).";
        if (!force && HoldsFiles(folder)) return Fail(taken, out error);
        try
        {
            for (string? parent = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(folder)); parent is not null; parent = System.IO.Path.GetDirectoryName(parent))
            {
                if (File.Exists(parent)) return Fail($"{option} must be a folder that can be created (got '{folder}': '{parent}' is a file).", out error);
                if (Directory.Exists(parent)) break;
            }
            Directory.CreateDirectory(folder);
            if (Lock(folder, option, out error) is not { } run) return null;
            // Checked again under the lock: another run may have written here since the check above.
            if (!force && HoldsFiles(folder))
            {
                run.Dispose();
                return Fail(taken, out error);
            }
            run.RemoveEarlier(results);
            return run;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return Fail($"{option} must be a folder that can be written (got '{folder}': {e.Message}).", out error);
        }
    }

    /// <summary>
    /// An existing run folder, locked, for <paramref name="option"/> (e.g. --resume) to continue; leftovers of
    /// a killed writer (temporary files of <paramref name="results"/>) are removed. Null and a one-line reason
    /// when it cannot be had.
    /// </summary>
    public static RunFolder? Existing(string folder, string option, IReadOnlyList<string> results, out string? error)
    {
        if (string.IsNullOrWhiteSpace(folder) || !Directory.Exists(folder))
            return Fail($"{option} must be an existing run folder (got '{folder}').", out error);
        try
        {
            var run = Lock(folder, option, out error);
            run?.RemoveTemporaries(results);
            return run;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail($"{option} must be a folder that can be written (got '{folder}': {e.Message}).", out error);
        }
    }

    /// <summary>Tells the user which files a command wrote and where.</summary>
    public void Announce(IAnsiConsole console, params string[] files) =>
        console.MarkupLineInterpolated($"Wrote {string.Join(", ", files)} to [bold]{Path}[/]");

    /// <summary>Releases the folder to other runs.</summary>
    public void Dispose() => lockFile.Dispose();

    private static RunFolder? Lock(string folder, string option, out string? error)
    {
        error = null;
        try
        {
            Directory.CreateDirectory(LockFolder);
            return new RunFolder(folder, new FileStream(LockPath(folder), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1));
        }
        catch (IOException) when (File.Exists(LockPath(folder)))
        {
            return Fail($"{option}: '{folder}' is in use by another torchmomentum run; wait for it to end or choose another folder.", out error);
        }
    }

    private static string NewRunPath(string command)
    {
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + command;
        string candidate = System.IO.Path.Combine("runs", stamp);
        for (int n = 2; System.IO.Path.Exists(candidate); n++) candidate = System.IO.Path.Combine("runs", $"{stamp}-{n}");
        return candidate;
    }

    private static bool HoldsFiles(string folder) => Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any();

    /// <summary>
    /// The lock file of a folder: named for its full path, so two spellings of one path share it. A 128-bit
    /// non-cryptographic hash is plenty for a name (no one is attacking it) and spares every run the
    /// cryptography library.
    /// </summary>
    private static string LockPath(string folder)
    {
        string full = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(folder));
        byte[] hash = System.IO.Hashing.XxHash128.Hash(System.Text.Encoding.UTF8.GetBytes(full));
        return System.IO.Path.Combine(LockFolder, Convert.ToHexString(hash) + ".lock");
    }

    // Only the command's own files: anything else in the folder is the user's.
    private void RemoveEarlier(IEnumerable<string> results)
    {
        foreach (var file in results) File.Delete(this[file]);
        RemoveTemporaries(results);
    }

    private void RemoveTemporaries(IEnumerable<string> results)
    {
        foreach (var file in results)
            foreach (var temporary in Directory.EnumerateFiles(Path, file + AtomicFile.TemporaryPattern)) File.Delete(temporary);
    }

    private static RunFolder? Fail(string reason, out string? error)
    {
        error = reason;
        return null;
    }
}
