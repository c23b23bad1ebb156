using System.Security.Cryptography;
using System.Text;
using TorchMomentum.Files;

namespace TorchMomentum.Training;

/// <summary>One contestant's saved state: its net's weights and its optimizer's state, in TorchSharp's own formats.</summary>
/// <param name="Name">The contestant's name (<see cref="ChapterRun.Names"/>).</param>
/// <param name="LastFiniteLoss">Its last finite loss, for a divergence message after the resume.</param>
/// <param name="Weights">What <c>Module.save</c> wrote.</param>
/// <param name="OptimizerState">What <c>Optimizer.save_state_dict</c> wrote.</param>
public sealed record ContestantState(string Name, double LastFiniteLoss, byte[] Weights, byte[] OptimizerState);

/// <summary>
/// Everything needed to continue a <see cref="ChapterRun"/> exactly where it stopped, at the end of an epoch.
/// The file (checkpoint.bin) is this record's fields in order, version first, sealed with a SHA-256 of the
/// content so that a truncated or damaged file is refused as a whole instead of half-loaded, and written
/// atomically. Reading validates every field before anything is built from it.
/// </summary>
/// <param name="Settings">The run's settings (data, nets and batches follow from them).</param>
/// <param name="EpochsDone">Epochs trained, in [0, Settings.Epochs].</param>
/// <param name="GeneratorState">torch's global generator: it orders the coming epochs.</param>
/// <param name="Contestants">The three contestants' weights and optimizer state, in <see cref="ChapterRun.Names"/> order.</param>
/// <param name="CheckpointEvery">How often the run saves: a resumed run goes on doing so.</param>
/// <param name="RowsSha256">SHA-256 of the per-step record (losses.csv) up to this point: what the checkpoint continues.</param>
public sealed record Checkpoint(ExperimentSettings Settings, int EpochsDone, byte[] GeneratorState,
    IReadOnlyList<ContestantState> Contestants, int CheckpointEvery, byte[] RowsSha256)
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "checkpoint.bin";

    private const string Magic = "TorchMomentum checkpoint";
    private const int Version = 2;
    private const int HashLength = 32;

    /// <summary>Writes the checkpoint to <paramref name="path"/>, atomically, sealed with its hash.</summary>
    public void Write(string path)
    {
        var content = new MemoryStream();
        using (var w = new BinaryWriter(content, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(Settings.ToJson());
            w.Write(EpochsDone);
            WriteBytes(w, GeneratorState);
            w.Write(CheckpointEvery);
            WriteBytes(w, RowsSha256);
            w.Write(Contestants.Count);
            foreach (var c in Contestants)
            {
                w.Write(c.Name);
                w.Write(c.LastFiniteLoss);
                WriteBytes(w, c.Weights);
                WriteBytes(w, c.OptimizerState);
            }
        }
        var bytes = content.GetBuffer().AsMemory(0, (int)content.Length);
        byte[] hash = SHA256.HashData(bytes.Span);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(bytes.Span);
            stream.Write(hash);
        });
    }

    /// <summary>Reads and validates a checkpoint.</summary>
    /// <exception cref="InvalidDataException">Not a checkpoint, another version, truncated, damaged, or a field out of range.</exception>
    public static Checkpoint Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < HashLength) throw new InvalidDataException($"{bytes.Length} bytes is too short to be a checkpoint");
        int length = bytes.Length - HashLength;
        if (!SHA256.HashData(bytes.AsSpan(0, length)).AsSpan().SequenceEqual(bytes.AsSpan(length)))
            throw new InvalidDataException("its content does not match its checksum (truncated or damaged)");
        using var r = new BinaryReader(new MemoryStream(bytes, 0, length, writable: false), Encoding.UTF8);
        try
        {
            if (r.ReadString() != Magic) throw new InvalidDataException("not a TorchMomentum checkpoint");
            int version = r.ReadInt32();
            if (version != Version) throw new InvalidDataException($"checkpoint version {version}; this build reads version {Version}");
            var settings = ExperimentSettings.FromJson(r.ReadString());
            int epochsDone = r.ReadInt32();
            if (epochsDone < 0 || epochsDone > settings.Epochs) throw new InvalidDataException($"epochs done {epochsDone} is outside [0, {settings.Epochs}]");
            var generator = ReadBytes(r);
            int every = r.ReadInt32();
            if (every < 1) throw new InvalidDataException($"it saves every {every} epochs; that must be at least 1");
            var rows = ReadBytes(r);
            if (rows.Length != HashLength) throw new InvalidDataException($"its rows' hash has {rows.Length} bytes, not {HashLength}");
            int count = r.ReadInt32();
            if (count != ChapterRun.Names.Count)
                throw new InvalidDataException($"it holds {count} contestants; a chapter run has {ChapterRun.Names.Count}");
            var contestants = new List<ContestantState>();
            for (int i = 0; i < count; i++)
            {
                var c = new ContestantState(r.ReadString(), r.ReadDouble(), ReadBytes(r), ReadBytes(r));
                if (c.Name != ChapterRun.Names[i]) throw new InvalidDataException($"contestant {i} is '{c.Name}', expected '{ChapterRun.Names[i]}'");
                contestants.Add(c);
            }
            return new Checkpoint(settings, epochsDone, generator, contestants, every, rows);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException("it ends before its last field");
        }
    }

    private static void WriteBytes(BinaryWriter w, byte[] bytes)
    {
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    private static byte[] ReadBytes(BinaryReader r)
    {
        int length = r.ReadInt32();
        if (length < 0 || length > r.BaseStream.Length - r.BaseStream.Position) throw new InvalidDataException($"a field claims {length} bytes");
        return r.ReadBytes(length);
    }
}
