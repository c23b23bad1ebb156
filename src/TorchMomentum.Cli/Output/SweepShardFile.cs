using System.Text.Json;
using System.Text.Json.Serialization;
using TorchMomentum.Files;
using TorchMomentum.Sweeps;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.Output;

/// <summary>A sweep's grid as shard files and summary.json write it.</summary>
/// <remarks>
/// <c>batch_sizes</c> is null for the one batch size of <c>batch_size</c>; <c>targets</c> and <c>excess</c> are empty and
/// <c>steps</c> null when the sweep measures no steps to targets; <c>engine</c> is <c>fused</c> or <c>torch</c>, <c>menu</c>
/// <c>grid</c> or <c>equal</c>; <c>seeds</c> are the tuning seeds of a study, <c>eval_seeds</c> its held-out ones;
/// <c>label_noises</c> is null for the one <c>label_noise</c>.
/// </remarks>
public sealed record SweepGridJson(double LrMin, double LrMax, int LrCount, double MomentumMin, double MomentumMax, int MomentumCount, string Menu,
    long[] Seeds, long[] EvalSeeds, int Studies, int Epochs, int BatchSize, int Samples, int Hidden, double LabelNoise, string Dtype, int[]? BatchSizes,
    double[] Targets, double[] Excess, double[]? LabelNoises, int? Steps, string Engine)
{
    /// <summary>The JSON form of a grid.</summary>
    public static SweepGridJson From(SweepGrid g) => new(g.LrMin, g.LrMax, g.LrCount, g.MomentumMin, g.MomentumMax, g.MomentumCount, g.Menu.ToString().ToLowerInvariant(),
        [.. g.Seeds], [.. g.EvalSeeds], g.Studies, g.Training.Epochs, g.Training.BatchSize, g.Training.Samples, g.Training.Hidden, g.Training.LabelNoise,
        g.Training.DType.ToString().ToLowerInvariant(), g.BatchSizes is null ? null : [.. g.BatchSizes], [.. g.Targets], [.. g.Excess],
        g.LabelNoises is null ? null : [.. g.LabelNoises], g.Steps, g.Engine.ToString().ToLowerInvariant());

    /// <summary>The grid it describes (check it with <see cref="SweepGrid.Problem"/>).</summary>
    public SweepGrid ToGrid() => new()
    {
        LrMin = LrMin, LrMax = LrMax, LrCount = LrCount, MomentumMin = MomentumMin, MomentumMax = MomentumMax, MomentumCount = MomentumCount,
        // A menu this build does not know reads as the grid: its cells are then not the file's, and the merge refuses them.
        Menu = Menu == "equal" ? SweepMenu.Equal : SweepMenu.Grid,
        Seeds = Seeds ?? [],
        EvalSeeds = EvalSeeds ?? [],
        Studies = Studies,
        BatchSizes = BatchSizes,
        Targets = Targets ?? [],
        Excess = Excess ?? [],
        LabelNoises = LabelNoises,
        Steps = Steps,
        // An engine this build does not know: the torch engine's name stands in, and the grid reads as another sweep's.
        Engine = Engine == "torch" ? SweepEngine.Torch : SweepEngine.Fused,
        Training = new ExperimentSettings
        {
            Epochs = Epochs, BatchSize = BatchSize, Samples = Samples, Hidden = Hidden, LabelNoise = LabelNoise,
            DType = Dtype switch { "float32" => ScalarType.Float32, "float64" => ScalarType.Float64, _ => ScalarType.Int8 }, // Int8: refused by Problem()
        },
    };

    /// <summary>Whether two grids are the same sweep (the record's own equality compares the seed arrays by reference).</summary>
    public bool SameAs(SweepGridJson other) => Bare == other.Bare
        && Seeds.SequenceEqual(other.Seeds) && (EvalSeeds ?? []).SequenceEqual(other.EvalSeeds ?? []) && (BatchSizes ?? []).SequenceEqual(other.BatchSizes ?? [])
        && (BatchSizes is null) == (other.BatchSizes is null) && (Targets ?? []).SequenceEqual(other.Targets ?? []) && (Excess ?? []).SequenceEqual(other.Excess ?? [])
        && (LabelNoises ?? []).SequenceEqual(other.LabelNoises ?? []) && (LabelNoises is null) == (other.LabelNoises is null);

    private SweepGridJson Bare => this with { Seeds = [], EvalSeeds = [], BatchSizes = null, Targets = [], Excess = [], LabelNoises = null };
}

/// <summary>
/// How a sweep, or one shard of it, was trained: where, on how many threads, for how long, in how much memory. What a
/// shard file keeps of its process, and what summary.json says of the whole sweep (<see cref="Merged"/> for a merge).
/// </summary>
/// <param name="Device">Where it trained: cpu or cuda.</param>
/// <param name="Threads">Chunks trained at once, per process.</param>
/// <param name="TrainingSeconds">Wall time of the training, seconds, from the first step to the end of the last epoch (of a merged sweep: the sum over its shards).</param>
/// <param name="PeakRssBytes">The process's peak resident memory, bytes (of a merged sweep: the largest shard's).</param>
/// <param name="RssPerEpochBytes">Resident memory each time another epoch's worth of cell-steps was done, bytes (empty for a merged sweep).</param>
/// <param name="SetUpSeconds">Wall time before the first step: each seed's data and initial net drawn, the cells made (of a merged sweep: the sum).</param>
public sealed record SweepRun(string Device, int Threads, double TrainingSeconds, long PeakRssBytes, long[] RssPerEpochBytes, double SetUpSeconds)
{
    /// <summary>Longest training a run may report, seconds (about 32 years): a sum over 100,000 shards stays finite.</summary>
    public const double MaxTrainingSeconds = 1e9;

    /// <summary>The whole sweep's run, from its shards'.</summary>
    public static SweepRun Merged(IReadOnlyList<SweepRun> shards) =>
        new(shards[0].Device, shards.Max(s => s.Threads), shards.Sum(s => s.TrainingSeconds), shards.Max(s => s.PeakRssBytes), [], shards.Sum(s => s.SetUpSeconds));

    /// <summary>What no process could have reported (a damaged or edited file), or null.</summary>
    public string? Problem() =>
        Device is not ("cpu" or "cuda") ? $"device '{Device}' is not cpu or cuda"
        : Threads < 1 || Threads > SweepTraining.MaxThreads ? $"threads {Threads} is outside [1, {SweepTraining.MaxThreads}]"
        : !(TrainingSeconds >= 0 && TrainingSeconds <= MaxTrainingSeconds) ? $"training_seconds {TrainingSeconds} is outside [0, {MaxTrainingSeconds:0e0}]"
        : !(SetUpSeconds >= 0 && SetUpSeconds <= MaxTrainingSeconds) ? $"set_up_seconds {SetUpSeconds} is outside [0, {MaxTrainingSeconds:0e0}]"
        : PeakRssBytes < 0 ? $"peak_rss_bytes {PeakRssBytes} is negative"
        : RssPerEpochBytes is null || RssPerEpochBytes.Any(b => b < 0) ? "rss_per_epoch_bytes is missing or negative"
        : null;
}

/// <summary>One cell's results in a shard file (<see cref="CellResult"/>'s fields; the curve as little-endian float32 bytes, base64 in the JSON).</summary>
public sealed record ShardCell(int Id, double[] EpochLosses, double? FinalLoss, int? DivergedStep, int?[] StepsToTargets, int?[] SustainedSteps, byte[] Curve)
{
    /// <summary>The shard file's form of a cell's results.</summary>
    public static ShardCell From(CellResult r) =>
        new(r.Cell.Id, r.EpochLosses, r.FinalLoss, r.DivergedStep, r.StepsToTargets, r.SustainedSteps, System.Runtime.InteropServices.MemoryMarshal.AsBytes(r.Curve.AsSpan()).ToArray());

    /// <summary>The curve's numbers (a method: the file keeps the bytes alone).</summary>
    public float[] CurveValues() => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Curve).ToArray();
}

/// <summary>
/// <c>sweep-shard-I-of-N.bin</c>: what one shard of a sweep trained (the cells whose id mod N is I), with the grid,
/// so that <c>sweep merge</c> can check the shards belong together and nothing is missing or there twice. The file
/// is this record as UTF-8 JSON sealed with its SHA-256 (<see cref="SealedFile"/>, as checkpoint.bin is): shard
/// files wait on shared cluster storage between jobs, and a flipped bit in a digit would otherwise merge as a
/// plausible, wrong loss. Reading refuses every field out of range, so a resealed file still cannot hold a negative
/// or infinite loss.
/// </summary>
public sealed record SweepShardFile
{
    /// <summary>What the file says it is.</summary>
    public const string FormatName = "torchmomentum-sweep-shard";

    /// <summary>The format's version (1 was unsealed JSON named .json; 2 had no batch sizes, targets or steps to them; 3 no held-out seeds, label noises, sustained steps or curves).</summary>
    public const int CurrentVersion = 4;

    /// <summary>The names shard files of version 1 had, which this build no longer reads.</summary>
    public const string EarlierPattern = "sweep-shard-*-of-*.json";

    /// <summary>The names of shard files, as a search pattern.</summary>
    public const string Pattern = "sweep-shard-*-of-*.bin";

    /// <summary>Most bytes a shard file may have to be read (a 4,096-cell, 12-epoch shard has about 1 MB; a study's curves add 5.4 bytes a cell-step).</summary>
    public const long MaxBytes = 1L << 30;

    /// <summary>
    /// About how many bytes a shard of <paramref name="cells"/> cells of <paramref name="grid"/> takes, from above: per
    /// cell its epoch losses as text (24 bytes each, averaged over the batch sizes, whose cells are as many each), its
    /// curve in base64 (16/3 bytes a step) and its other fields (256 bytes). The default study's two shards: 146 MB.
    /// </summary>
    public static long EstimatedBytes(SweepGrid grid, long cells)
    {
        double perCell = 256 + grid.CellBatchSizes.Average(b => 24.0 * grid.SettingsOf(b).Epochs + (grid.MeasuresSteps ? 16.0 / 3 * grid.StepBudget(b) : 0));
        return (long)(cells * perCell);
    }

    /// <summary>The name of shard <paramref name="shard"/>'s file.</summary>
    public static string FileName(Shard shard) => $"sweep-shard-{shard.Index}-of-{shard.Count}.bin";

    /// <summary>Always <see cref="FormatName"/>.</summary>
    public required string Format { get; init; }
    /// <summary>Always <see cref="CurrentVersion"/>.</summary>
    public required int Version { get; init; }
    /// <summary>The whole sweep's grid.</summary>
    public required SweepGridJson Grid { get; init; }
    /// <summary>This shard's index.</summary>
    public required int ShardIndex { get; init; }
    /// <summary>How many shards the sweep has.</summary>
    public required int ShardCount { get; init; }
    /// <summary>How this shard's process trained.</summary>
    public required SweepRun Run { get; init; }
    /// <summary>Its cells' results, in id order.</summary>
    public required ShardCell[] Cells { get; init; }

    /// <summary>Creates and deletes a file in <paramref name="folder"/>, to learn before training that the shard can be written there.</summary>
    public static void Probe(string folder)
    {
        string probe = Path.Combine(folder, $".sweep-probe-{Environment.ProcessId}.tmp");
        File.WriteAllBytes(probe, []);
        File.Delete(probe);
    }

    /// <summary>Writes the file sealed and atomically: a rerun of the shard (a requeued task) replaces it whole, or not at all.</summary>
    public void Write(string path) => SealedFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(this, SweepJson.Default.SweepShardFile));

    /// <summary>
    /// Reads a shard file: a regular file of at most <see cref="MaxBytes"/> whose seal matches, of this format and
    /// version, with a valid grid and every field in range (the cells' results are checked against the grid by
    /// <see cref="SweepMerge"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">It is not such a file; the message says why.</exception>
    public static SweepShardFile Read(string path)
    {
        SweepShardFile? file;
        try
        {
            file = JsonSerializer.Deserialize(SealedFile.Read(path, MaxBytes).Span, SweepJson.Default.SweepShardFile);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"not a sweep shard file ({e.Message.Split('\n')[0].TrimEnd('.')})");
        }
        if (file is null || file.Format != FormatName) throw new InvalidDataException("not a sweep shard file");
        if (file.Version != CurrentVersion) throw new InvalidDataException($"shard format version {file.Version}, this build reads {CurrentVersion}");
        if (file.Grid is null) throw new InvalidDataException("it has no grid");
        if (file.Grid.ToGrid().Problem() is { } problem) throw new InvalidDataException($"its grid is not valid: {problem.ForCommandLine}");
        if (file.Grid.Engine is not ("fused" or "torch")) throw new InvalidDataException($"its engine '{file.Grid.Engine}' is not fused or torch");
        if (file.ShardCount < 1 || file.ShardCount > Shard.MaxCount || file.ShardIndex < 0 || file.ShardIndex >= file.ShardCount)
            throw new InvalidDataException($"shard {file.ShardIndex}/{file.ShardCount} is not a shard");
        if (file.Run is null) throw new InvalidDataException("it does not say how it was trained (run)");
        if (file.Run.Problem() is { } run) throw new InvalidDataException(run);
        if (file.Cells is null || file.Cells.Any(c => c is null)) throw new InvalidDataException("its cells are missing");
        return file;
    }
}

/// <summary>The serializer of shard files and a sweep's summary.json, generated at compile time.</summary>
[JsonSourceGenerationOptions(WriteIndented = false, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(SweepShardFile))]
[JsonSerializable(typeof(SweepSummary))]
internal sealed partial class SweepJson : JsonSerializerContext
{
}
