using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchMomentum.Files;
using TorchMomentum.Model;
using static TorchSharp.torch;

namespace TorchMomentum.Training;

/// <summary>A tensor as a checkpoint stores it: its shape and its elements' bytes (little-endian, the run's dtype).</summary>
/// <param name="Shape">The tensor's shape.</param>
/// <param name="Data">Its elements, row-major, as raw bytes of the run's <see cref="ExperimentSettings.DType"/>.</param>
public sealed record SavedTensor(long[] Shape, byte[] Data);

/// <summary>One contestant's saved state: its net's weights and the state its kind keeps (<see cref="ContestantKind.Kept"/>).</summary>
/// <param name="Name">The contestant's name (<see cref="ChapterRun.Names"/>).</param>
/// <param name="LastFiniteLoss">Its last finite loss, for a divergence message after the resume.</param>
/// <param name="Weights">The net's parameters by name (<see cref="Net.ParameterShapes"/>).</param>
/// <param name="Tensors">Each kept tensor field (a momentum buffer, Adam's exp_avg, schedule-free's z, an average's
/// weights) by its name, each a tensor per parameter name; a field that does not exist yet (before a first step) is absent.</param>
/// <param name="Numbers">Each kept number (a step count, a running sum) by its name.</param>
public sealed record ContestantState(string Name, double LastFiniteLoss, IReadOnlyDictionary<string, SavedTensor> Weights,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, SavedTensor>> Tensors, IReadOnlyDictionary<string, double> Numbers);

/// <summary>
/// Everything needed to continue a <see cref="ChapterRun"/> exactly where it stopped, at the end of an epoch, as
/// named fields (nanoGPT's checkpoint dict): the settings once (the optimizers are rebuilt from them), the
/// epochs done, the generator, and each contestant's weights and momentum state. The file (checkpoint.bin) is
/// that record as UTF-8 JSON (tensors as base64 of their bytes, so every number comes back bit for bit), sealed
/// with a SHA-256 of the JSON so that a truncated or damaged file is refused as a whole instead of half-loaded,
/// and written atomically (the seal finds damage; it is no signature). Reading validates the fields before
/// anything is built from them: the settings exactly as the command line validates them, the epochs, each
/// tensor's name, shape, dtype and finiteness, the generator state's size.
/// </summary>
/// <param name="Settings">The run's settings (data, nets, optimizers and batches follow from them).</param>
/// <param name="EpochsDone">Epochs trained, in [0, Settings.Epochs].</param>
/// <param name="GeneratorState">torch's global generator: it orders the coming epochs.</param>
/// <param name="Contestants">The contestants, in <see cref="ExperimentSettings.Contestants"/> order.</param>
/// <param name="CheckpointEvery">How often the run saves: a resumed run goes on doing so.</param>
/// <param name="RowsSha256">SHA-256 of the per-step record (losses.csv) up to this point: what the checkpoint continues.</param>
public sealed record Checkpoint(ExperimentSettings Settings, int EpochsDone, byte[] GeneratorState,
    IReadOnlyList<ContestantState> Contestants, int CheckpointEvery, byte[] RowsSha256)
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "checkpoint.bin";

    /// <summary>
    /// The largest checkpoint file read: every contestant of the widest net in float64, its weights and up to ten
    /// kept tensors per parameter (AggMo's eight buffers, schedule-free's three), as base64, with room.
    /// </summary>
    public const long MaxFileBytes = 512L << 20;

    private const string Format = "TorchMomentum checkpoint";
    private const int Version = 4;
    private const int HashLength = SealedFile.SealLength;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
        WriteIndented = false,
    };

    /// <summary>The file's fields, by name.</summary>
    private sealed record Fields(string Format, int Version, ExperimentSettings Settings, int EpochsDone, int CheckpointEvery,
        byte[] RowsSha256, byte[] GeneratorState, IReadOnlyList<ContestantState> Contestants);

    /// <summary>Writes the checkpoint to <paramref name="path"/>, atomically, sealed with its hash.</summary>
    public void Write(string path) => SealedFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(
        new Fields(Format, Version, Settings, EpochsDone, CheckpointEvery, RowsSha256, GeneratorState, Contestants), Json));

    /// <summary>Reads and validates a checkpoint.</summary>
    /// <exception cref="InvalidDataException">Not a regular file of at most <see cref="MaxFileBytes"/>, not a
    /// checkpoint, another version, truncated, damaged, or a field out of range.</exception>
    public static Checkpoint Read(string path)
    {
        // Versions 1 and 2 were sealed the same way.
        var content = SealedFile.Read(path, MaxFileBytes);
        if (EarlierVersion(content.Span) is int old)
            throw new InvalidDataException($"it is a version {old} checkpoint of an earlier TorchMomentum; this build reads version {Version} only: start the run again");
        Fields fields;
        try
        {
            fields = JsonSerializer.Deserialize<Fields>(content.Span, Json) ?? throw new InvalidDataException("it holds no fields");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"its fields cannot be read ({e.Message.Split('\n')[0]})");
        }
        var checkpoint = new Checkpoint(fields.Settings, fields.EpochsDone, fields.GeneratorState, fields.Contestants, fields.CheckpointEvery, fields.RowsSha256);
        checkpoint.Validate(fields.Format, fields.Version);
        return checkpoint;
    }

    /// <summary>The version of a checkpoint of the binary layout that versions 1 and 2 used, or null.</summary>
    private static int? EarlierVersion(ReadOnlySpan<byte> bytes)
    {
        // BinaryWriter's string: its length as one byte, then the text; then the version as a 32-bit integer.
        int start = 1 + Format.Length;
        if (bytes.Length < start + 4 || bytes[0] != Format.Length || Encoding.UTF8.GetString(bytes.Slice(1, Format.Length)) != Format) return null;
        return BitConverter.ToInt32(bytes.Slice(start, 4));
    }

    private void Validate(string? format, int version)
    {
        if (format != Format) throw new InvalidDataException("not a TorchMomentum checkpoint");
        if (version != Version) throw new InvalidDataException($"checkpoint version {version}; this build reads version {Version}");
        if (Settings is null) throw new InvalidDataException("it has no settings");
        if (Settings.Problem() is { } problem) throw new InvalidDataException($"its settings are out of range: {problem.ForCommandLine}");
        if (EpochsDone < 0 || EpochsDone > Settings.Epochs) throw new InvalidDataException($"epochs done {EpochsDone} is outside [0, {Settings.Epochs}]");
        if (CheckpointEvery < 1 || CheckpointEvery > ExperimentSettings.MaxEpochs)
            throw new InvalidDataException($"it saves every {CheckpointEvery} epochs; that must be in [1, {ExperimentSettings.MaxEpochs}]");
        if (RowsSha256 is not { Length: HashLength }) throw new InvalidDataException($"its rows' hash is not {HashLength} bytes");
        int generatorBytes = Data.RunGenerator.StateLength;
        if (GeneratorState is null || GeneratorState.Length != generatorBytes)
            throw new InvalidDataException($"its generator state is not the {generatorBytes} bytes of torch's generator");
        var names = Settings.ContestantList;
        if (Contestants is null || Contestants.Count != names.Count)
            throw new InvalidDataException($"it holds {Contestants?.Count ?? 0} contestants; its settings race {names.Count}");
        var shapes = Net.ParameterShapes(Settings.Hidden);
        int element = Settings.DType == ScalarType.Float64 ? 8 : 4;
        for (int i = 0; i < Contestants.Count; i++)
        {
            var c = Contestants[i];
            if (c?.Name != names[i]) throw new InvalidDataException($"contestant {i} is '{c?.Name}', expected '{names[i]}'");
            CheckTensors(c.Name, "weights", c.Weights, shapes, element);
            var kept = ContestantKinds.Of(c.Name).Kept;
            var tensorFields = kept.OfType<KeptTensors>().Select(f => f.Name).ToHashSet();
            if (c.Tensors is null) throw new InvalidDataException($"{c.Name} has no state fields");
            if (c.Tensors.Keys.FirstOrDefault(f => !tensorFields.Contains(f)) is { } stray) throw new InvalidDataException($"{c.Name} keeps no state '{stray}', but it has some");
            foreach (var (field, tensors) in c.Tensors) CheckTensors(c.Name, field, tensors, shapes, element);
            var numbers = kept.OfType<KeptNumber>().Select(n => n.Name).ToArray();
            if (c.Numbers is null || c.Numbers.Count != numbers.Length || numbers.Any(n => !c.Numbers.TryGetValue(n, out double v) || !double.IsFinite(v) || v < -1 || v > 1e15))
                throw new InvalidDataException($"{c.Name}'s numbers are not {(numbers.Length == 0 ? "empty" : string.Join(", ", numbers) + ", each finite")}");
        }
    }

    private static void CheckTensors(string contestant, string what, IReadOnlyDictionary<string, SavedTensor>? tensors,
        IReadOnlyList<(string Name, long[] Shape)> shapes, int element)
    {
        if (tensors is null) throw new InvalidDataException($"{contestant} has no {what}");
        if (tensors.Count != shapes.Count || shapes.Any(s => !tensors.ContainsKey(s.Name)))
            throw new InvalidDataException($"{contestant}'s {what} are not {string.Join(", ", shapes.Select(s => s.Name))}");
        foreach (var (name, shape) in shapes)
        {
            var t = tensors[name];
            if (t?.Shape is null || !t.Shape.SequenceEqual(shape) || t.Data is null || t.Data.Length != shape.Aggregate(1L, (a, b) => a * b) * element)
                throw new InvalidDataException($"{contestant}'s {what} {name} is not a [{string.Join(", ", shape)}] tensor of the run's dtype");
            if (!AllFinite(t.Data, element)) throw new InvalidDataException($"{contestant}'s {what} {name} holds a NaN or infinite value");
        }
    }

    private static bool AllFinite(byte[] data, int element)
    {
        if (element == 8)
        {
            foreach (double d in System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(data)) if (!double.IsFinite(d)) return false;
            return true;
        }
        foreach (float f in System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data)) if (!float.IsFinite(f)) return false;
        return true;
    }

    /// <summary>A tensor's shape and bytes, for saving.</summary>
    public static SavedTensor Save(Tensor tensor)
    {
        using var cpu = tensor.detach().cpu().contiguous();
        byte[] data = cpu.dtype == ScalarType.Float64
            ? System.Runtime.InteropServices.MemoryMarshal.AsBytes(cpu.data<double>().ToArray().AsSpan()).ToArray()
            : System.Runtime.InteropServices.MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()).ToArray();
        return new SavedTensor(cpu.shape, data);
    }

    /// <summary>A saved tensor back as a tensor of <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    public static Tensor Load(SavedTensor saved, ScalarType dtype, Device device)
    {
        using var cpu = dtype == ScalarType.Float64
            ? tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(saved.Data).ToArray(), saved.Shape)
            : tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(saved.Data).ToArray(), saved.Shape);
        return cpu.to(device);
    }
}
