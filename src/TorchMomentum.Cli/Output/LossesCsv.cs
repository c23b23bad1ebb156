using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TorchMomentum.Training;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// losses.csv: <c>step,epoch,</c> and a column per contestant (<c>sgd,momentum,handwritten</c> by default), a row per step, numbers in their shortest round-trip
/// form, so the file compares line by line with the one scripts/chapter_momentum.py writes. Written as
/// training goes, in blocks: rows reach the file at least once a second, at every checkpoint (which must
/// never count rows that could still be lost) and at the end, so a diverging run keeps every step it
/// finished and a killed one resumes from its checkpoint. A running SHA-256 of the bytes written lets a
/// checkpoint record exactly which rows it continues; it starts at the first checkpoint (reading back what was
/// written until then), so a run that never checkpoints never loads the cryptography library (5.6 MB of memory).
/// </summary>
public sealed class LossesCsv : IDisposable
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "losses.csv";

    /// <summary>The header line of a run racing <paramref name="contestants"/>.</summary>
    public static string Header(IReadOnlyList<string> contestants) => string.Join(',', new[] { "step", "epoch" }.Concat(contestants));

    // Rows not yet written are hashed and written together, a block at a time, which costs a tenth of doing it per
    // row. The block's text and its UTF-8 bytes are kept and reused: a string and a byte array made per block were
    // large objects, which only a full collection frees, and made the memory of a long run creep up.
    private const int BlockChars = 1 << 15;
    private readonly StringBuilder pending = new(BlockChars);
    private readonly byte[] encoded = new byte[Encoding.UTF8.GetMaxByteCount(BlockChars)];
    private readonly FileStream stream;
    private IncrementalHash? hash;
    private readonly int stepsPerEpoch;
    private readonly int columns;
    private readonly System.Diagnostics.Stopwatch sinceFlush = System.Diagnostics.Stopwatch.StartNew();

    private LossesCsv(FileStream stream, IncrementalHash? hash, ExperimentSettings settings)
    {
        this.stream = stream;
        this.hash = hash;
        stepsPerEpoch = settings.StepsPerEpoch;
        columns = settings.ContestantList.Count;
    }

    /// <summary>Starts a new file with its header, for a run with these settings.</summary>
    public static LossesCsv Create(string path, ExperimentSettings settings)
    {
        var csv = new LossesCsv(new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read), hash: null, settings);
        csv.pending.Append(Header(settings.ContestantList)).Append('\n');
        csv.Flush();
        return csv;
    }

    /// <summary>
    /// Opens a file to continue after its first <paramref name="steps"/> rows, cutting off whatever follows
    /// them (rows a killed run wrote after its last checkpoint, or half a row), after checking that the
    /// bytes up to there are the ones whose SHA-256 the checkpoint recorded.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="steps">Rows to keep.</param>
    /// <param name="sha256">The hash of the header and those rows, as <see cref="Sha256"/> gave it then.</param>
    /// <param name="settings">The run's settings: its steps per epoch and its contestants.</param>
    /// <returns>The file, and the losses of the rows kept.</returns>
    /// <exception cref="InvalidDataException">The file has fewer rows, or other bytes than the checkpoint recorded.</exception>
    public static (LossesCsv File, List<double[]> Kept) Continue(string path, int steps, byte[] sha256, ExperimentSettings settings)
    {
        // A pipe in its place would block the open below forever: only a regular file with rows is read.
        TorchMomentum.Files.RegularFile.Check(path, long.MaxValue);
        var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            // Byte by byte up to the (steps + 1)-th newline: what counts is exactly the bytes on disk.
            var kept = new List<double[]>(steps);
            var line = new List<byte>(128);
            var input = new BufferedStream(stream, 1 << 16);
            long end = 0;
            for (int lines = 0; lines <= steps;)
            {
                int b = input.ReadByte();
                if (b < 0) throw new InvalidDataException($"{FileName} has {Math.Max(lines - 1, 0)} complete rows, the checkpoint needs {steps}");
                end++;
                if (b != '\n')
                {
                    line.Add((byte)b);
                    continue;
                }
                hash.AppendData([.. line, (byte)'\n']);
                // The columns are the contestants the checkpoint resumes: a resealed checkpoint that reorders or renames
                // them would otherwise continue under the old header, every column mislabelled.
                if (lines == 0 && Encoding.UTF8.GetString([.. line]) is var header && header != Header(settings.ContestantList))
                    throw new InvalidDataException($"its header is '{header}', but the checkpoint races {string.Join(',', settings.ContestantList)}");
                if (lines > 0) kept.Add(ParseRow(Encoding.UTF8.GetString([.. line]), kept.Count, settings.ContestantList.Count));
                line.Clear();
                lines++;
            }
            if (!hash.GetCurrentHash().AsSpan().SequenceEqual(sha256))
                throw new InvalidDataException($"its first {steps} rows are not the ones the checkpoint was saved after (edited, or written by another run)");
            stream.SetLength(end);
            stream.Seek(0, SeekOrigin.End);
            return (new LossesCsv(stream, hash, settings), kept);
        }
        catch
        {
            hash.Dispose();
            stream.Dispose();
            throw;
        }
    }

    private static double[] ParseRow(string line, int step, int contestants)
    {
        var fields = line.Split(',');
        if (fields.Length != 2 + contestants || fields[0] != step.ToString(CultureInfo.InvariantCulture))
            throw new InvalidDataException($"{FileName} row {step + 1} is not step {step}");
        return fields.Skip(2).Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>Appends one step's row; it reaches the operating system within a second.</summary>
    public void Append(int step, double[] losses)
    {
        pending.Append(step).Append(',').Append(step / stepsPerEpoch);
        foreach (double loss in losses) pending.Append(',').Append(CsvFile.Number(loss));
        pending.Append('\n');
        // Before the block outgrows its buffer (a row is under 256 characters), or once a second.
        if (pending.Length > BlockChars - 256 || sinceFlush.ElapsedMilliseconds >= 1000) Flush();
    }

    /// <summary>Hashes the pending rows and hands them to the operating system.</summary>
    private void Flush()
    {
        int length = 0;
        foreach (var chunk in pending.GetChunks()) length += Encoding.UTF8.GetBytes(chunk.Span, encoded.AsSpan(length));
        pending.Clear();
        hash?.AppendData(encoded, 0, length);
        stream.Write(encoded, 0, length);
        sinceFlush.Restart();
    }

    /// <summary>The SHA-256 of every row appended so far, header included.</summary>
    public byte[] Sha256()
    {
        Flush();
        if (hash is null)
        {
            hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long written = stream.Position;
            stream.Position = 0;
            while (stream.Position < written)
            {
                int count = (int)Math.Min(encoded.Length, written - stream.Position);
                stream.ReadExactly(encoded, 0, count);
                hash.AppendData(encoded, 0, count);
            }
        }
        return hash.GetCurrentHash();
    }

    /// <summary>Forces the rows written so far to disk: a checkpoint must never count rows that could be lost.</summary>
    public void Sync()
    {
        Flush();
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Closes the file; closing it again does nothing. The stream is closed even if a last flush fails (a full disk).</summary>
    public void Dispose()
    {
        if (!stream.CanWrite) return;
        try
        {
            Flush();
        }
        finally
        {
            stream.Dispose();
            hash?.Dispose();
        }
    }
}
