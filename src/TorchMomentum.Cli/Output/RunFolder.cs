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

    /// <summary>
    /// Where --force puts the earlier results while the new run makes its own: they come back if it does not
    /// finish (<see cref="Dispose"/>, or the next open after a kill), and are deleted once it has (<see cref="Publish(IAnsiConsole, string[])"/>).
    /// </summary>
    private const string EarlierFolderName = ".torchmomentum-earlier";

    /// <summary>
    /// The earlier results while --force moves them aside one by one: renamed to <see cref="EarlierFolderName"/> only
    /// once all of them are in it. A kill before that leaves this folder, whose files go back: nothing new was
    /// published yet, and the results still in the folder are the earlier run's too.
    /// </summary>
    private const string SettingAsideFolderName = ".torchmomentum-setting-aside";

    /// <summary>The earlier results on their way back (a restore that was itself cut short goes on from here).</summary>
    private const string RestoringFolderName = ".torchmomentum-restoring";

    /// <summary>The earlier results on their way out, once the new ones are complete.</summary>
    private const string DiscardedFolderName = ".torchmomentum-discarded";

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

    /// <summary>Whether this run replaces earlier results (--force): they stay until its own are complete.</summary>
    public bool ReplacesEarlier => Directory.Exists(this[EarlierFolderName]);

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
                if (Lock(candidate, "--out", results, out _) is not { } run) continue;
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
    private static RunFolder? Lock(string folder, string option, IReadOnlyList<string> results, out string? error)
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
        var run = new RunFolder(folder, stream, results);
        try
        {
            run.ProbeWritable();
            // What a run killed before it finished left: its temporary files, and earlier results it had set aside.
            run.RemoveTemporaries();
            run.PutEarlierBack();
            if (Directory.Exists(run[DiscardedFolderName]))
            {
                Change();
                Directory.Delete(run[DiscardedFolderName], recursive: true);
            }
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

    // Only the command's own files: anything else in the folder is the user's. All or nothing: they are moved into a
    // folder of their own, which becomes the earlier results' by one rename once it holds every one of them.
    private void SetEarlierAside()
    {
        var earlier = results.Where(file => File.Exists(this[file])).ToArray();
        if (earlier.Length == 0) return;
        Change();
        Directory.CreateDirectory(this[SettingAsideFolderName]);
        foreach (var file in earlier)
        {
            Change();
            File.Move(this[file], System.IO.Path.Combine(this[SettingAsideFolderName], file));
        }
        Change();
        Directory.Move(this[SettingAsideFolderName], this[EarlierFolderName]);
    }

    /// <summary>
    /// A test seam: with <c>TORCHMOMENTUM_KILL_AT_CHANGE=N</c> in its environment the process kills itself (SIGKILL,
    /// as a power cut or the OOM killer would end it) just before the Nth change it makes to run folders' contents
    /// (a folder made, a result moved, a folder moved or deleted), so that a test can check that no such moment
    /// loses an earlier result. Without it, nothing happens.
    /// </summary>
    private static readonly int killAtChange = int.TryParse(Environment.GetEnvironmentVariable("TORCHMOMENTUM_KILL_AT_CHANGE"), out int n) ? n : 0;
    private static int changes;

    private static void Change()
    {
        if (killAtChange > 0 && Interlocked.Increment(ref changes) == killAtChange) System.Diagnostics.Process.GetCurrentProcess().Kill();
    }

    /// <summary>
    /// Puts back the earlier results of a run that did not finish: first deletes what that run wrote of its own
    /// results, then moves the earlier ones back through a folder of their own, so that a restore cut short by a kill
    /// is finished by the next one and never deletes a file it had already put back.
    /// </summary>
    private void PutEarlierBack()
    {
        if (Directory.Exists(this[SettingAsideFolderName]))
        {
            // Cut short while setting them aside: nothing new is in the folder yet, and no file there may be deleted.
            foreach (var saved in Directory.GetFiles(this[SettingAsideFolderName]))
            {
                Change();
                File.Move(saved, this[System.IO.Path.GetFileName(saved)], overwrite: true);
            }
            Change();
            Directory.Delete(this[SettingAsideFolderName], recursive: true);
        }
        if (Directory.Exists(this[EarlierFolderName]))
        {
            // Every earlier result is in there, so what the folder holds under a result's name is this run's own.
            foreach (var file in results.Where(file => File.Exists(this[file])))
            {
                Change();
                File.Delete(this[file]);
            }
            Change();
            Directory.Move(this[EarlierFolderName], this[RestoringFolderName]);
        }
        if (!Directory.Exists(this[RestoringFolderName])) return;
        foreach (var saved in Directory.GetFiles(this[RestoringFolderName]))
        {
            Change();
            File.Move(saved, this[System.IO.Path.GetFileName(saved)], overwrite: true);
        }
        Change();
        Directory.Delete(this[RestoringFolderName], recursive: true);
    }

    private void RemoveTemporaries()
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
