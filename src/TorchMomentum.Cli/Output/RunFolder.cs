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
/// process ends, killed or not. Its jobs, a file each: this one opens and releases it; RunFolder.Lock.cs takes the lock;
/// RunFolder.Naming.cs names a new run's folder; RunFolder.Staging.cs stages and publishes the results;
/// RunFolder.Earlier.cs sets --force's earlier results aside and puts them back.
/// </summary>
public sealed partial class RunFolder : IDisposable
{
    /// <summary>The lock file's name inside every run folder; hidden, empty, and not one of the results.</summary>
    public const string LockFileName = ".torchmomentum.lock";

    private readonly FileStream lockFile;
    private readonly IReadOnlyList<string> results;
    private readonly List<(string Temporary, string Final)> staged = [];
    private bool published;

    private RunFolder(string path, FileStream lockFile, IReadOnlyList<string> results)
    {
        Path = path;
        this.lockFile = lockFile;
        this.results = results;
    }

    /// <summary>The folder's path, as given or chosen.</summary>
    public string Path { get; }

    /// <summary>The path of <paramref name="name"/> inside the folder.</summary>
    public string this[string name] => System.IO.Path.Combine(Path, name);

    /// <summary>
    /// The folder a new run writes <paramref name="results"/> into: the one requested, or a new folder
    /// <c>runs/&lt;date-time&gt;-&lt;command&gt;</c> that no other run has; created, locked and checked writable. A
    /// folder that holds files is refused unless <paramref name="force"/> is given; then the command's own results of
    /// an earlier run are set aside, to be deleted when the new ones are complete (<see cref="Publish(IAnsiConsole, string[])"/>) and put
    /// back if they never are. Returns null and a one-line reason when the path cannot take them; then nothing of
    /// the user's changed and no folder was left behind.
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
        Recover(folder, results);
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
            if (Lock(folder, option, results, out error) is not { } run) return null;
            try
            {
                // Checked again under the lock: another run may have written here since the check above.
                if (!force && HoldsFiles(folder))
                {
                    run.Dispose();
                    return Fail(taken, out error);
                }
                run.SetEarlierAside();
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
    /// Puts back the earlier results that a run killed while replacing them (--force) had set aside, so that the
    /// folder shows them again before anyone decides what it holds. Does nothing where nothing was set aside, or
    /// while another run holds the folder (it may be replacing them right now).
    /// </summary>
    public static void Recover(string folder, IReadOnlyList<string> results)
    {
        if (new[] { SettingAsideFolderName, EarlierFolderName, RestoringFolderName }.All(name => !Directory.Exists(System.IO.Path.Combine(folder, name)))) return;
        try
        {
            using var run = Lock(folder, "--out", results, out _); // the lock puts them back
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The run that opens the folder next says what is wrong with it.
        }
    }

    /// <summary>
    /// An existing run folder, locked and checked writable, for <paramref name="option"/> (e.g. --resume) to
    /// continue; leftovers of a killed writer (temporary files of <paramref name="results"/>) are removed. With
    /// <paramref name="replaceEarlier"/>, results already there are set aside as --force sets them (see <see cref="Open"/>).
    /// Null and a one-line reason when it cannot be had.
    /// </summary>
    public static RunFolder? Existing(string folder, string option, IReadOnlyList<string> results, out string? error, bool replaceEarlier = false)
    {
        if (string.IsNullOrWhiteSpace(folder) || !Directory.Exists(folder))
            return Fail($"{option} must be an existing run folder (got '{folder}').", out error);
        try
        {
            var run = Lock(folder, option, results, out error);
            if (replaceEarlier) run?.SetEarlierAside();
            return run;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(CannotWrite(option, folder, e), out error);
        }
    }

    /// <summary>
    /// Releases the folder to other runs. A run that did not <see cref="Publish(IAnsiConsole, string[])"/> leaves no staged file behind, and
    /// puts back the earlier results --force set aside (deleting what it wrote in their place).
    /// </summary>
    public void Dispose()
    {
        try
        {
            foreach (var (temporary, _) in staged) File.Delete(temporary);
            if (!published) PutEarlierBack();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The next run to open the folder finishes the job (Lock).
        }
        finally
        {
            lockFile.Dispose();
        }
    }

    /// <summary>
    /// The one line for a folder that cannot be written: what the system said, without the path it quotes (a probe
    /// or lock file of ours, which would only puzzle the user; the folder is named already).
    /// </summary>
    internal static string CannotWrite(string option, string folder, Exception e) =>
        $"{option} must be a folder that can be written (got '{folder}': {System.Text.RegularExpressions.Regex.Replace(e.Message.Split('\n')[0], " ?'[^']*'", "").TrimEnd('.', ' ')}).";

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

    private static RunFolder? Fail(string reason, out string? error)
    {
        error = reason;
        return null;
    }
}
