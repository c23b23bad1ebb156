using System.Text.Json;
using TorchMomentum.Files;
using TorchMomentum.Sweeps;

namespace TorchMomentum.Cli.Output;

/// <summary>A point of the map as summary.json gives it.</summary>
public sealed record SweepPointJson(double Lr, double Momentum, double EffectiveLr, double? MedianLastEpochLoss, int DivergedSeeds)
{
    /// <summary>The JSON form of a point (a diverged median is null).</summary>
    public static SweepPointJson? From(MapPoint? p) => p is null ? null
        : new(p.Lr, p.Momentum, p.EffectiveLr, p.Diverged ? null : p.MedianLoss, p.DivergedSeeds);
}

/// <summary>A sweep's summary.json: the grid, what the map says, and how fast and in how much memory it trained.</summary>
public sealed record SweepSummary
{
    /// <summary>The grid and the shared settings.</summary>
    public required SweepGridJson Grid { get; init; }
    /// <summary>Number of cells.</summary>
    public required int Cells { get; init; }
    /// <summary>Cells times steps per cell.</summary>
    public required long CellSteps { get; init; }
    /// <summary>Cells that diverged.</summary>
    public required int DivergedCells { get; init; }
    /// <summary>The point of lowest median loss.</summary>
    public SweepPointJson? Best { get; init; }
    /// <summary>The best point at momentum 0.</summary>
    public SweepPointJson? BestPlainSgd { get; init; }
    /// <summary>The point nearest the chapter's lr 0.01, momentum 0.8.</summary>
    public required SweepPointJson ChapterPoint { get; init; }
    /// <summary>Plain SGD nearest the chapter's effective lr 0.05.</summary>
    public SweepPointJson? PlainSgdAtChapterEffectiveLr { get; init; }
    /// <summary>How many processes trained it (1, or the shard count of a merged sweep).</summary>
    public required int Shards { get; init; }
    /// <summary>Where it trained.</summary>
    public required string Device { get; init; }
    /// <summary>Chunks trained at once, per process.</summary>
    public required int Threads { get; init; }
    /// <summary>Wall time of the training, seconds (of a merged sweep: the sum over its shards).</summary>
    public required double TrainingSeconds { get; init; }
    /// <summary>Cell-steps per second of training: <see cref="CellSteps"/> / <see cref="TrainingSeconds"/>.</summary>
    public required double CellStepsPerSecond { get; init; }
    /// <summary>Peak resident memory of the process, bytes (of a merged sweep: the largest shard's).</summary>
    public required long PeakRssBytes { get; init; }
    /// <summary>Resident memory each time another epoch's worth of cell-steps was done, bytes (empty for a merged sweep).</summary>
    public required long[] RssPerEpochBytes { get; init; }
    /// <summary>TorchSharp's assembly version.</summary>
    public required string TorchsharpVersion { get; init; }

    /// <summary>Writes it as indented JSON.</summary>
    public void Write(string path) => AtomicFile.Write(path, stream =>
        JsonSerializer.Serialize(stream, this, new SweepJson(new JsonSerializerOptions(SweepJson.Default.Options) { WriteIndented = true }).SweepSummary));
}
