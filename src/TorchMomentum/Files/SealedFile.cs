using System.Security.Cryptography;

namespace TorchMomentum.Files;

/// <summary>
/// A file whose content is followed by its SHA-256, written atomically (<see cref="AtomicFile"/>): a truncated,
/// damaged or hand-edited file is refused as a whole instead of being half-loaded or silently believed. The seal
/// finds damage; it is no signature (whoever edits the content can seal it again). Checkpoints and sweep shard
/// files, which wait on disk (often shared cluster storage) between the runs that write and read them, are sealed.
/// </summary>
public static class SealedFile
{
    /// <summary>Bytes of the seal at the file's end.</summary>
    public const int SealLength = 32;

    /// <summary>Writes <paramref name="content"/> and its seal to <paramref name="path"/>, atomically.</summary>
    public static void Write(string path, byte[] content)
    {
        byte[] seal = SHA256.HashData(content);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(content);
            stream.Write(seal);
        });
    }

    /// <summary>The content of a sealed file of at most <paramref name="maxBytes"/>, once its seal is checked.</summary>
    /// <exception cref="InvalidDataException">Not a regular file of that size (<see cref="RegularFile"/>), too short, or its content does not match its seal.</exception>
    public static ReadOnlyMemory<byte> Read(string path, long maxBytes)
    {
        byte[] bytes = RegularFile.ReadAllBytes(path, maxBytes);
        if (bytes.Length < SealLength) throw new InvalidDataException($"{bytes.Length} bytes is too short to hold a seal");
        int length = bytes.Length - SealLength;
        if (!SHA256.HashData(bytes.AsSpan(0, length)).AsSpan().SequenceEqual(bytes.AsSpan(length)))
            throw new InvalidDataException("its content does not match its checksum (truncated, damaged or edited)");
        return bytes.AsMemory(0, length);
    }
}
