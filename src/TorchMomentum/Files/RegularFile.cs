namespace TorchMomentum.Files;

/// <summary>
/// Reads only what a run wrote: a regular file with content, of a bounded size. A symlink to /dev/zero would
/// otherwise be read until memory runs out, and opening a FIFO waits forever for a writer. Devices, pipes and
/// sockets report a size of 0, so the size check (made before anything is opened) refuses them all.
/// </summary>
public static class RegularFile
{
    /// <summary>Refuses <paramref name="path"/> unless it is a regular file of 1 to <paramref name="maxBytes"/> bytes.</summary>
    /// <exception cref="InvalidDataException">It is missing, empty, not a regular file, or too large.</exception>
    public static void Check(string path, long maxBytes)
    {
        FileSystemInfo info = new FileInfo(path);
        if (info.LinkTarget is not null) info = info.ResolveLinkTarget(returnFinalTarget: true) ?? info;
        if (info is not FileInfo { Exists: true } file)
            throw new InvalidDataException($"'{path}' is not a regular file");
        if (file.Length == 0)
            throw new InvalidDataException($"'{path}' is empty, or a device or pipe rather than a file a run wrote");
        if (file.Length > maxBytes)
            throw new InvalidDataException($"'{path}' has {file.Length} bytes, more than the {maxBytes} such a file can have");
    }

    /// <summary>The bytes of <paramref name="path"/>, once <see cref="Check"/> has passed.</summary>
    /// <exception cref="InvalidDataException">See <see cref="Check"/>.</exception>
    public static byte[] ReadAllBytes(string path, long maxBytes)
    {
        Check(path, maxBytes);
        return File.ReadAllBytes(path);
    }
}
