namespace TorchMomentum.Cli.Output;

/// <summary>Its lock: taken when a run opens the folder, checked writable, held until the run ends (see the class above).</summary>
public sealed partial class RunFolder
{
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
}
