using Spectre.Console;

namespace TorchMomentum.Cli.Output;

/// <summary>--force's set-aside: the earlier results moved out of the way while a new run makes its own, put back if it never completes, deleted once it has.</summary>
public sealed partial class RunFolder
{
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

    /// <summary>Whether this run replaces earlier results (--force): they stay until its own are complete.</summary>
    public bool ReplacesEarlier => Directory.Exists(this[EarlierFolderName]);

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
}
