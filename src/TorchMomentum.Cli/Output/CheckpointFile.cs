using System.Security.Cryptography;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// checkpoint.bin: a run's state, written atomically and sealed with a SHA-256 of its content, so that a
/// truncated or damaged file is recognised as such instead of being half-loaded.
/// </summary>
public static class CheckpointFile
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "checkpoint.bin";

    private const int HashLength = 32;

    /// <summary>Writes the content <paramref name="write"/> produces, followed by its hash, atomically.</summary>
    public static void Write(string path, Action<BinaryWriter> write)
    {
        var content = new MemoryStream();
        using (var writer = new BinaryWriter(content, System.Text.Encoding.UTF8, leaveOpen: true)) write(writer);
        byte[] hash = SHA256.HashData(content.GetBuffer().AsSpan(0, (int)content.Length));
        AtomicFile.Write(path, stream =>
        {
            stream.Write(content.GetBuffer(), 0, (int)content.Length);
            stream.Write(hash);
        });
    }

    /// <summary>Reads a checkpoint back, after checking its hash.</summary>
    /// <exception cref="InvalidDataException">The file is truncated or its content does not match its hash.</exception>
    public static BinaryReader Open(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < HashLength) throw new InvalidDataException($"{bytes.Length} bytes is too short to be a checkpoint");
        int length = bytes.Length - HashLength;
        if (!SHA256.HashData(bytes.AsSpan(0, length)).AsSpan().SequenceEqual(bytes.AsSpan(length)))
            throw new InvalidDataException("its content does not match its checksum (truncated or damaged)");
        return new BinaryReader(new MemoryStream(bytes, 0, length, writable: false));
    }
}
