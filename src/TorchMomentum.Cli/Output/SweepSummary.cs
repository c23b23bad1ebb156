using System.Text.Json;
using TorchMomentum.Files;
using TorchMomentum.Sweeps;

namespace TorchMomentum.Cli.Output;

/// <summary>A point of the map as summary.json gives it.</summary>
public sealed record SweepPointJson(double Lr, double Momentum, double EffectiveLr, double? MedianLastEpochLoss, int DivergedSeeds)
{
    /// <summary>The JSON form of a point (a diverged median is null).</summary>
    public static SweepPointJson? From(MapPoint? p) => p is null ? null
        : new(p.Lr, p.Momentum, p.EffectiveLr, p.Measured ? p.MedianLoss : null, p.DivergedSeeds);
}

/// <summary>One family's held-out result at one problem, as summary.json gives it (a number that cannot exist is null).</summary>
public sealed record StudyRowJson(string Measure, int BatchSize, double Target, string Family, double? Lr, double? Momentum, double? EffectiveLr, bool OnEdge,
    double? MedianSteps, double? FewestStepsOverStudies, double? MostStepsOverStudies, double? SpeedUp, double? SpeedUpLow, double? SpeedUpHigh, string? Verdict)
{
    /// <summary>The JSON form of a row.</summary>
    public static StudyRowJson From(StudyRow r) => new(ScalingOutputs.Name(r.Measure), r.BatchSize, r.Target, ScalingOutputs.Name(r.Family), F(r.Lr), F(r.Momentum),
        r.Reached ? F(r.EffectiveLr) : null, r.OnEdge, F(r.Steps), F(r.FewestSteps), F(r.MostSteps), F(r.SpeedUp), F(r.SpeedUpLow), F(r.SpeedUpHigh),
        r.Verdict is { } v ? ScalingOutputs.Name(v) : null);

    /// <summary>A number JSON can hold, or null (infinity and NaN are not numbers there).</summary>
    internal static double? F(double? v) => v is { } x && double.IsFinite(x) ? x : null;
}

/// <summary>What one study chose, as summary.json gives it.</summary>
public sealed record StudyChoiceJson(string Measure, int BatchSize, double Target, string Family, int Study, double Lr, double Momentum, double? TuneSteps, double? HeldOutSteps)
{
    /// <summary>The JSON form of a choice.</summary>
    public static StudyChoiceJson From(StudyChoice c) => new(ScalingOutputs.Name(c.Measure), c.BatchSize, c.Target, ScalingOutputs.Name(c.Family), c.Study, c.Lr, c.Momentum,
        StudyRowJson.F(c.TuneSteps), StudyRowJson.F(c.HeldOutSteps));
}

/// <summary>
/// A family's critical batch size (null: beyond the grid) and gradient noise scale (null: not reached) at a target,
/// and the noisy quadratic model's error against the held-out mean at each batch size (model steps over measured).
/// </summary>
public sealed record FamilyAtTargetJson(double Target, string Family, double? CriticalBatchSize, double? NoiseScale, double?[] ModelSteps, double?[] ModelOverMeasured);

/// <summary>The study at one label noise in summary.json.</summary>
public sealed record ScalingLevelJson(double LabelNoise, StudyRowJson[] Rows, FamilyAtTargetJson[] Families, StudyChoiceJson[] Choices);

/// <summary>The study's protocol and answers in summary.json (a number that cannot exist, as B_noise over one sample, is null).</summary>
public sealed record ScalingJson(int Studies, long[] TuneSeeds, long[] EvalSeeds, int MenuPlainSgd, int MenuMomentum, int BootstrapResamples, int BootstrapSeed, double Margin,
    int[] BatchSizes, ScalingLevelJson[] LabelNoises)
{
    /// <summary>The summary of a study, with each label noise's gradient noise scales and model predictions.</summary>
    public static ScalingJson Of(ScalingStudy study, IReadOnlyList<ScalingOutputs.Extras> extras) => new(study.Grid.Studies, [.. study.Grid.Seeds], [.. study.Grid.EvalSeeds],
        study.MenuSizes.GetValueOrDefault(Family.PlainSgd), study.MenuSizes.GetValueOrDefault(Family.Momentum), PairedBootstrap.Resamples, PairedBootstrap.Seed,
        ScalingStudy.Margin, [.. study.Grid.CellBatchSizes],
        [.. study.Grid.NoiseLevels.Select((noise, n) => new ScalingLevelJson(noise,
            [.. study.Rows.Where(r => r.LabelNoise == noise).Select(StudyRowJson.From)],
            [.. study.Grid.TargetNames.SelectMany((t, i) => study.Families.Select(f => new FamilyAtTargetJson(t, ScalingOutputs.Name(f), StudyRowJson.F(study.CriticalBatchSize(noise, f, t)),
                StudyRowJson.F(extras[n].Noise.GetValueOrDefault(f)?[i].NoiseScale),
                [.. study.Grid.CellBatchSizes.Select(b => extras[n].Model(b, t, f) is { Reached: true } m ? m.Steps : (double?)null)],
                [.. study.Grid.CellBatchSizes.Select(b => StudyRowJson.F(extras[n].ModelError(study, b, t, f)))])))],
            [.. study.Choices.Where(c => c.LabelNoise == noise).Select(StudyChoiceJson.From)]))]);
}

/// <summary>A sweep's summary.json: the grid, what the map says (a sweep with a map), the study (with targets), and how it was trained; made once, by <see cref="Of"/>.</summary>
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
/// <param name="Scaling">With targets: the study's protocol and, per label noise, its held-out results; null without.</param>
/// <param name="OutputsSeconds">Seconds from the end of training (or of reading the shards) to this summary: the map, the study, the tables and the figures, what a user waits for after the training clock stops.</param>
public sealed record SweepSummary(SweepGridJson Grid, long Cells, long CellSteps, int DivergedCells, SweepPointJson? Best, SweepPointJson? BestPlainSgd,
    SweepPointJson? ChapterPoint, SweepPointJson? PlainSgdAtChapterEffectiveLr, int Shards, SweepRun Run, double CellStepsPerSecond, string TorchsharpVersion,
    int? MapBatchSize, ScalingJson? Scaling, double OutputsSeconds)
{
    /// <summary>The summary of a sweep trained (or merged from <paramref name="shards"/> shards) as <paramref name="run"/> says.</summary>
    public static SweepSummary Of(SweepGrid grid, IReadOnlyList<CellResult> results, SweepMap? map, ScalingStudy? study, IReadOnlyList<ScalingOutputs.Extras> extras, int shards, SweepRun run,
        double outputsSeconds)
    {
        // The most cell-steps the grid could train (cells that diverge stop sooner).
        long cellSteps = grid.CellSteps(Sweeps.Shard.Whole);
        return new(SweepGridJson.From(grid), grid.CellCount, cellSteps, results.Count(r => r.DivergedStep is not null), SweepPointJson.From(map?.Best), SweepPointJson.From(map?.BestPlainSgd),
            SweepPointJson.From(map?.NearestChapter), SweepPointJson.From(map?.PlainSgdAtChapterEffectiveLr), shards, run,
            run.TrainingSeconds > 0 ? cellSteps / run.TrainingSeconds : 0, BuildInfo.TorchSharpVersion, map?.BatchSize,
            study is null ? null : ScalingJson.Of(study, extras), outputsSeconds);
    }

    /// <summary>Writes it as indented JSON.</summary>
    public void Write(string path) => AtomicFile.Write(path, stream =>
        JsonSerializer.Serialize(stream, this, new SweepJson(new JsonSerializerOptions(SweepJson.Default.Options) { WriteIndented = true }).SweepSummary));
}
