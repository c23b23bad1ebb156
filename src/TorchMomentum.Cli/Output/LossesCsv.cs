using System.Globalization;
using System.Text;
using TorchMomentum.Training;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// losses.csv: <c>step,epoch,sgd,momentum,handwritten</c>, a row per step, numbers in their shortest round-trip
/// form, so the file compares line by line with the one scripts/chapter_momentum.py writes. Written as
/// training goes, each row flushed, so a run that dies or diverges keeps every step it finished.
/// </summary>
public sealed class LossesCsv : IDisposable
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "losses.csv";

    /// <summary>The header line.</summary>
    public static readonly string Header = string.Join(',', new[] { "step", "epoch" }.Concat(ChapterRun.Names));

    private readonly FileStream stream;
    private readonly StreamWriter writer;
    private readonly int stepsPerEpoch;

    private LossesCsv(FileStream stream, int stepsPerEpoch)
    {
        this.stream = stream;
        this.stepsPerEpoch = stepsPerEpoch;
        writer = new StreamWriter(stream, new UTF8Encoding(false), bufferSize: -1, leaveOpen: true) { NewLine = "\n" };
    }

    /// <summary>Starts a new file with its header.</summary>
    public static LossesCsv Create(string path, int stepsPerEpoch)
    {
        var csv = new LossesCsv(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read), stepsPerEpoch);
        csv.writer.WriteLine(Header);
        csv.writer.Flush();
        return csv;
    }

    /// <summary>
    /// Opens a file to continue after its first <paramref name="steps"/> rows, cutting off whatever follows
    /// them (rows a killed run wrote after its last checkpoint, or half a row).
    /// </summary>
    /// <returns>The file, and the losses of the rows kept.</returns>
    /// <exception cref="InvalidDataException">The file has another header or fewer rows.</exception>
    public static (LossesCsv File, List<double[]> Kept) Continue(string path, int steps, int stepsPerEpoch)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            var kept = new List<double[]>(steps);
            long end = 0;
            using (var reader = new StreamReader(stream, new UTF8Encoding(false), false, 1 << 16, leaveOpen: true))
            {
                string? header = reader.ReadLine();
                if (header != Header) throw new InvalidDataException($"{FileName} does not start with '{Header}'");
                end = Encoding.UTF8.GetByteCount(header) + 1;
                while (kept.Count < steps && reader.ReadLine() is { } line)
                {
                    var fields = line.Split(',');
                    if (fields.Length != 2 + ChapterRun.Names.Count || fields[0] != kept.Count.ToString(CultureInfo.InvariantCulture))
                        throw new InvalidDataException($"{FileName} row {kept.Count + 1} is not step {kept.Count}");
                    kept.Add(fields.Skip(2).Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray());
                    end += Encoding.UTF8.GetByteCount(line) + 1;
                }
            }
            if (kept.Count < steps) throw new InvalidDataException($"{FileName} has {kept.Count} rows, the checkpoint needs {steps}");
            stream.SetLength(end);
            stream.Seek(0, SeekOrigin.End);
            return (new LossesCsv(stream, stepsPerEpoch), kept);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Appends one step's row and hands it to the operating system.</summary>
    public void Append(int step, double[] losses)
    {
        writer.Write(step.ToString(CultureInfo.InvariantCulture));
        writer.Write(',');
        writer.Write((step / stepsPerEpoch).ToString(CultureInfo.InvariantCulture));
        foreach (double loss in losses)
        {
            writer.Write(',');
            writer.Write(CsvFile.Number(loss));
        }
        writer.Write('\n');
        writer.Flush();
    }

    /// <summary>Forces the rows written so far to disk: a checkpoint must never count rows that could be lost.</summary>
    public void Sync() => stream.Flush(flushToDisk: true);

    /// <summary>Closes the file; closing it again does nothing.</summary>
    public void Dispose()
    {
        if (!stream.CanWrite) return;
        writer.Dispose();
        stream.Dispose();
    }
}
