namespace TorchMomentum.Files;

/// <summary>
/// Writes a file so that it is either as it was or complete: into a temporary file next to it, flushed to
/// disk, then renamed over the final name (rename replaces a file atomically). A run killed half-way
/// leaves the previous version, never a half-written one. Each write has its own temporary name, so two
/// writers never share or delete each other's.
/// </summary>
public static class AtomicFile
{
    /// <summary>What follows a file's name in the names of its temporary files (a search pattern).</summary>
    public const string TemporaryPattern = ".*.tmp";

    /// <summary>A temporary file's path for <paramref name="path"/>, its own (it matches <see cref="TemporaryPattern"/>).</summary>
    public static string TemporaryPath(string path) => $"{path}.{Guid.NewGuid():N}.tmp";

    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, atomically.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string temporary = TemporaryPath(path);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
