using System.Text.Json;
using TorchMomentum.Files;
using TorchMomentum.Cli.CommandLine;
using TorchMomentum.Sweeps;

namespace TorchMomentum.Cli.Output;

/// <summary>A point of the map as summary.json gives it.</summary>
public sealed record SweepPointJson(double Lr, double Momentum, double EffectiveLr, double? MedianLastEpochLoss, int DivergedSeeds)
{
    /// <summary>The JSON form of a point (a diverged median is null).</summary>
    public static SweepPointJson? From(MapPoint? p) => p is null ? null
        : new(p.Lr, p.Momentum, p.EffectiveLr, p.Diverged ? null : p.MedianLoss, p.DivergedSeeds);
}

/// <summary>One family's best at one batch size, as summary.json gives it (steps null where not reached).</summary>
public sealed record ScalingPointJson(int BatchSize, double? MedianSteps, double? FewestSteps, double? MostSteps, double? Lr, double? Momentum, double? EffectiveLr, bool LrOnGridEdge)
{
    /// <summary>The JSON form of a best setting.</summary>
    public static ScalingPointJson From(BestSetting b)
    {
        static double? F(double v) => double.IsFinite(v) ? v : null;
        return new(b.BatchSize, F(b.Steps), F(b.FewestSteps), F(b.MostSteps), F(b.Lr), F(b.Momentum), b.Reached ? b.EffectiveLr : null, b.Reached && b.OnGridEdge);
    }
}

/// <summary>
/// The study at one target in summary.json: each family's curve, critical batch size (null: beyond the grid) and
/// gradient noise scale where its run reached the target (<see cref="ScalingStudy.NoiseScales"/>; null: not reached).
/// </summary>
public sealed record ScalingTargetJson(double Target, ScalingPointJson[] PlainSgd, ScalingPointJson[] Momentum, double? PlainSgdCriticalBatchSize, double? MomentumCriticalBatchSize,
    double? PlainSgdNoiseScale, double? MomentumNoiseScale)
{
    /// <summary>The study at <paramref name="target"/>.</summary>
    public static ScalingTargetJson Of(ScalingStudy study, double target, double? plainSgdNoise, double? momentumNoise) => new(target,
        [.. study.Curve(Family.PlainSgd, target).Select(ScalingPointJson.From)], [.. study.Curve(Family.Momentum, target).Select(ScalingPointJson.From)],
        study.CriticalBatchSize(Family.PlainSgd, target), study.CriticalBatchSize(Family.Momentum, target), plainSgdNoise, momentumNoise);
}

/// <summary>A sweep's summary.json: the grid, what the map says, and how it was trained; made once, by <see cref="Of"/>.</summary>
/// <param name="Grid">The grid and the shared settings.</param>
/// <param name="Cells">Number of cells.</param>
/// <param name="CellSteps">Cells times steps per cell.</param>
/// <param name="DivergedCells">Cells that diverged.</param>
/// <param name="Best">The point of lowest median loss.</param>
/// <param name="BestPlainSgd">The best point at momentum 0.</param>
/// <param name="ChapterPoint">The point nearest the chapter's lr 0.01, momentum 0.8.</param>
/// <param name="PlainSgdAtChapterEffectiveLr">Plain SGD nearest the chapter's effective lr 0.05.</param>
/// <param name="Shards">How many processes trained it (1, or the shard count of a merged sweep).</param>
/// <param name="Run">Where, on how many threads, for how long and in how much memory it trained.</param>
/// <param name="CellStepsPerSecond">Cell-steps per second of training: <paramref name="CellSteps"/> / the run's training seconds.</param>
/// <param name="TorchsharpVersion">TorchSharp's assembly version.</param>
/// <param name="MapBatchSize">The batch size of the map's cells (<see cref="SweepMap.BatchSize"/>).</param>
/// <param name="Scaling">With targets: per target, each family's best steps per batch size and its critical batch size; null without.</param>
public sealed record SweepSummary(SweepGridJson Grid, long Cells, long CellSteps, int DivergedCells, SweepPointJson? Best, SweepPointJson? BestPlainSgd,
    SweepPointJson? ChapterPoint, SweepPointJson? PlainSgdAtChapterEffectiveLr, int Shards, SweepRun Run, double CellStepsPerSecond, string TorchsharpVersion,
    int MapBatchSize, ScalingTargetJson[]? Scaling)
{
    /// <summary>The summary of a sweep trained (or merged from <paramref name="shards"/> shards) as <paramref name="run"/> says.</summary>
    public static SweepSummary Of(SweepMap map, ScalingStudy? study, IReadOnlyDictionary<Family, IReadOnlyList<NoiseScaleAt>> noise, int shards, SweepRun run)
    {
        // The most cell-steps the grid could train (cells that reach every target stop sooner).
        long cellSteps = map.Grid.CellSteps(Sweeps.Shard.Whole);
        return new(SweepGridJson.From(map.Grid), map.Grid.CellCount, cellSteps, map.DivergedCells, SweepPointJson.From(map.Best), SweepPointJson.From(map.BestPlainSgd),
            SweepPointJson.From(map.NearestChapter), SweepPointJson.From(map.PlainSgdAtChapterEffectiveLr), shards, run,
            run.TrainingSeconds > 0 ? cellSteps / run.TrainingSeconds : 0, BuildInfo.TorchSharpVersion, map.BatchSize,
            study is null ? null : [.. study.Grid.Targets.Select((t, i) => ScalingTargetJson.Of(study, t,
                noise.GetValueOrDefault(Family.PlainSgd)?[i].NoiseScale, noise.GetValueOrDefault(Family.Momentum)?[i].NoiseScale))]);
    }

    /// <summary>Writes it as indented JSON.</summary>
    public void Write(string path) => AtomicFile.Write(path, stream =>
        JsonSerializer.Serialize(stream, this, new SweepJson(new JsonSerializerOptions(SweepJson.Default.Options) { WriteIndented = true }).SweepSummary));
}
