using TorchMomentum.Files;
using System.Globalization;
using Spectre.Console;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// The folder a command writes its results into, owned by this process until disposed. Ownership is an
/// exclusive OS lock (flock on Linux and macOS, a sharing lock on Windows) on <see cref="LockFileName"/> inside
/// the folder itself, so it follows the folder and not the path's spelling: a symlink, a relative path or
/// another TMPDIR all reach the same lock. The lock file is created readable and writable by its owner alone
/// (0600), so no other user can open it to hold the run (one who may write the folder could still put a file of
/// their own there first; then this run is refused, and says so), and it is never deleted: deleting it would let a
/// process that opened it just before lock a file that is no longer the folder's. The OS drops a lock when its
/// process ends, killed or not.
/// </summary>
public sealed class RunFolder : IDisposable
{
    /// <summary>The lock file's name inside every run folder; hidden, empty, and not one of the results.</summary>
    public const string LockFileName = ".torchmomentum.lock";

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
    /// <c>runs/&lt;date-time&gt;-&lt;command&gt;</c> that no other run has; created, locked, checked writable, and
    /// with the command's own results of an earlier run removed (only with <paramref name="force"/>: otherwise a
    /// folder that holds files is refused). Returns null and a one-line reason when the path cannot take them;
    /// then nothing of the user's changed and no folder was left behind.
    /// </summary>
    public static RunFolder? Open(string? requested, string command, bool force, IReadOnlyList<string> results, out string? error)
    {
        if (requested is null) return NewRun(command, results, out error);
        const string option = "--out";
        string folder = requested;
        if (string.IsNullOrWhiteSpace(folder))
            return Fail($"{option} must be a folder path (got '{folder}').", out error);
        if (File.Exists(folder))
            return Fail($"{option} must be a folder (got '{folder}', which is a file).", out error);
        string taken = $"{option} must be a new or empty folder (got '{folder}', which already holds files; add --force to replace this command's results there).";
        if (!force && HoldsFiles(folder)) return Fail(taken, out error);
        bool created = false;
        try
        {
            for (string? parent = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(folder)); parent is not null; parent = System.IO.Path.GetDirectoryName(parent))
            {
                if (File.Exists(parent)) return Fail($"{option} must be a folder that can be created (got '{folder}': '{parent}' is a file).", out error);
                if (Directory.Exists(parent)) break;
            }
            created = !Directory.Exists(folder);
            Directory.CreateDirectory(folder);
            // Another run holds it: the folder is that run's, created by it or not.
            if (Lock(folder, option, out error) is not { } run) return null;
            try
            {
                // Checked again under the lock: another run may have written here since the check above.
                if (!force && HoldsFiles(folder))
                {
                    run.Dispose();
                    return Fail(taken, out error);
                }
                run.RemoveEarlier(results);
                return run;
            }
            catch
            {
                run.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            RemoveIfCreated(folder, created);
            return Fail(CannotWrite(option, folder, e), out error);
        }
    }

    /// <summary>
    /// An existing run folder, locked and checked writable, for <paramref name="option"/> (e.g. --resume) to
    /// continue; leftovers of a killed writer (temporary files of <paramref name="results"/>) are removed. Null
    /// and a one-line reason when it cannot be had.
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
            return Fail(CannotWrite(option, folder, e), out error);
        }
    }

    /// <summary>Tells the user which files a command wrote and where.</summary>
    public void Announce(IAnsiConsole console, params string[] files) =>
        console.MarkupLineInterpolated($"Wrote {string.Join(", ", files)} to [bold]{Path}[/]");

    /// <summary>Releases the folder to other runs.</summary>
    public void Dispose() => lockFile.Dispose();

    /// <summary>
    /// A folder of its own for a run started without --out: the first name of <c>runs/&lt;date-time&gt;-&lt;command&gt;</c>,
    /// then <c>-2</c>, <c>-3</c>..., that this process can lock while it is empty. Two runs started in the same second
    /// may both create one name, but only one locks it; the other moves on to the next.
    /// </summary>
    private static RunFolder? NewRun(string command, IReadOnlyList<string> results, out string? error)
    {
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + command;
        for (int n = 1; n <= 1000; n++)
        {
            string candidate = System.IO.Path.Combine("runs", n == 1 ? stamp : $"{stamp}-{n}");
            if (HoldsFiles(candidate)) continue;
            bool created = false;
            try
            {
                created = !Directory.Exists(candidate);
                Directory.CreateDirectory(candidate);
                if (Lock(candidate, "--out", out _) is not { } run) continue;
                error = null;
                if (!HoldsFiles(candidate)) return run;
                run.Dispose();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                RemoveIfCreated(candidate, created);
                return Fail(CannotWrite("--out", candidate, e) + " Give --out a folder that can be written.", out error);
            }
        }
        return Fail($"--out: no free folder name under runs/ for {stamp}; give --out a folder.", out error);
    }

    /// <summary>Takes the folder's lock, or says in one line that another run holds it (null then).</summary>
    /// <exception cref="IOException">The lock file cannot be created or opened (the folder cannot be written).</exception>
    /// <exception cref="UnauthorizedAccessException">The same, for want of permission.</exception>
    private static RunFolder? Lock(string folder, string option, out string? error)
    {
        error = null;
        string path = System.IO.Path.Combine(folder, LockFileName);
        var options = new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        FileStream stream;
        try
        {
            stream = new FileStream(path, options);
        }
        catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException) && File.Exists(path) && !IsPermission(e))
        {
            return Fail($"{option}: '{folder}' is in use by another torchmomentum run; wait for it to end or choose another folder.", out error);
        }
        var run = new RunFolder(folder, stream);
        try
        {
            run.ProbeWritable();
            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    // On Unix, .NET reports EACCES and EPERM as UnauthorizedAccessException; anything else with a message of
    // "denied" is a permission problem too, never a held lock.
    private static bool IsPermission(IOException e) => e.Message.Contains("denied", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Creates and deletes a file in the folder: the lock file may be writable where the folder is not (a folder
    /// made read-only after a run), and every result is written beside it through a temporary file.
    /// </summary>
    private void ProbeWritable()
    {
        string probe = this[$"{LockFileName}.{Guid.NewGuid():N}.tmp"];
        using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
    }

    private static string CannotWrite(string option, string folder, Exception e) =>
        $"{option} must be a folder that can be written (got '{folder}': {e.Message.Split('\n')[0].TrimEnd('.')}).";

    /// <summary>
    /// Removes a folder this process created, if it is still empty. Never its lock file: a run that started at the
    /// same moment may hold it (both saw no folder, both created it, one locked it), and deleting a held lock
    /// file, or the folder under it, would hand that run's folder to a third.
    /// </summary>
    private static void RemoveIfCreated(string folder, bool created)
    {
        if (!created) return;
        try
        {
            if (!Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing more can be done; the refusal says why.
        }
    }

    private static bool HoldsFiles(string folder) =>
        Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any(entry => System.IO.Path.GetFileName(entry) != LockFileName);

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
