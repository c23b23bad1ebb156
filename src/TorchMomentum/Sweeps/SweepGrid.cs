using TorchMomentum.Model;
using System.Globalization;
using TorchMomentum.Devices;
using TorchMomentum.Optimizers;
using TorchMomentum.Training;
using TorchMomentum.Validation;
using static TorchSharp.torch;

namespace TorchMomentum.Sweeps;

/// <summary>
/// A sweep's grid of cells: every (learning rate, momentum, batch size, seed), each cell the built-in momentum net of
/// <c>train --lr LR --momentum M --batch-size B --seed S</c> with the shared <see cref="Training"/> settings. Learning
/// rates are log-spaced, momenta evenly spaced (momentum 0 is plain SGD); a count of 1 takes the minimum alone. With
/// <see cref="Targets"/>, every cell also measures its steps to each target loss (the batch-size study's measure).
/// </summary>
public sealed record SweepGrid
{
    /// <summary>Most values a grid axis (or the seed list) may have.</summary>
    public const int MaxCount = 4096;

    /// <summary>Smallest learning rate.</summary>
    public double LrMin { get; init; } = 1e-3;

    /// <summary>Largest learning rate.</summary>
    public double LrMax { get; init; } = 1;

    /// <summary>Number of learning rates, log-spaced from <see cref="LrMin"/> to <see cref="LrMax"/>.</summary>
    public int LrCount { get; init; } = 32;

    /// <summary>Smallest momentum.</summary>
    public double MomentumMin { get; init; }

    /// <summary>Largest momentum.</summary>
    public double MomentumMax { get; init; } = 0.99;

    /// <summary>Number of momenta, evenly spaced from <see cref="MomentumMin"/> to <see cref="MomentumMax"/>.</summary>
    public int MomentumCount { get; init; } = 32;

    /// <summary>
    /// The seeds, each fixing data, initial weights and batch order, as <c>train --seed</c> does; a study with targets
    /// tunes on them (<c>--tune-seeds</c>), cut into <see cref="Studies"/> equal sets in order.
    /// </summary>
    public IReadOnlyList<long> Seeds { get; init; } = [1, 2, 3, 4];

    /// <summary>
    /// A study's held-out seeds (<c>--eval-seeds</c>): the settings each study chose on its tuning seeds are reported on
    /// these, which chose nothing. Empty for a sweep without targets; none may be one of <see cref="Seeds"/>.
    /// </summary>
    public IReadOnlyList<long> EvalSeeds { get; init; } = [];

    /// <summary>How many times a study chooses its best settings, each on its own equal share of <see cref="Seeds"/> (AlgoPerf's studies).</summary>
    public int Studies { get; init; } = 1;

    /// <summary>The seeds cells are trained with: <see cref="Seeds"/>, then <see cref="EvalSeeds"/>.</summary>
    public IReadOnlyList<long> CellSeeds => EvalSeeds.Count == 0 ? Seeds : [.. Seeds, .. EvalSeeds];

    /// <summary>How each family's settings are laid out: the map's grid (the default), or equal menus for a study.</summary>
    public SweepMenu Menu { get; init; } = SweepMenu.Grid;

    /// <summary>
    /// The label noises sigma of the cells' data (y = x^2 + sigma * noise), an axis of cells; null for
    /// <see cref="Training"/>'s alone. More than one only for a study (with targets).
    /// </summary>
    public IReadOnlyList<double>? LabelNoises { get; init; }

    /// <summary>The label noises the cells have: <see cref="LabelNoises"/>, or <see cref="Training"/>'s alone.</summary>
    public IReadOnlyList<double> NoiseLevels => LabelNoises ?? [Training.LabelNoise];

    /// <summary>Whether the sweep is also the map of (lr, momentum) (sweep.png, effective-lr.png): a grid menu of one label noise.</summary>
    public bool HasMap => Menu == SweepMenu.Grid && NoiseLevels.Count == 1;

    /// <summary>What every cell shares: epochs, samples, hidden width, dtype (lr, momentum, seed and batch size are the cell's).</summary>
    public ExperimentSettings Training { get; init; } = new();

    /// <summary>
    /// The batch sizes, each cut from the same per-epoch permutation as train's (the last batch of an epoch shorter);
    /// null for <see cref="Training"/>'s batch size alone.
    /// </summary>
    public IReadOnlyList<int>? BatchSizes { get; init; }

    /// <summary>The batch sizes the cells have: <see cref="BatchSizes"/>, or <see cref="Training"/>'s alone.</summary>
    public IReadOnlyList<int> CellBatchSizes => BatchSizes ?? [Training.BatchSize];

    /// <summary>
    /// Full-data losses to reach, in any order: a cell keeps its full-data loss after every step
    /// (<see cref="FullDataLoss"/>) and reports when it first reaches each, and when it reaches each to stay
    /// (<see cref="StepsToTarget"/>). Absolute; <see cref="Excess"/> gives them above each seed's noise floor instead.
    /// </summary>
    public IReadOnlyList<double> Targets { get; init; } = [];

    /// <summary>
    /// Targets as excesses over each seed's noise floor, mean((y - x^2)^2) of its data (<see cref="Data.ChapterData.FloorOf"/>):
    /// every seed and label noise is asked for the same distance above what no net beats. Not with <see cref="Targets"/>.
    /// </summary>
    public IReadOnlyList<double> Excess { get; init; } = [];

    /// <summary>Whether cells measure their steps to targets (absolute or as excesses): the batch-size study.</summary>
    public bool MeasuresSteps => Targets.Count > 0 || Excess.Count > 0;

    /// <summary>The targets as the study names them: <see cref="Targets"/>, or the <see cref="Excess"/>es.</summary>
    public IReadOnlyList<double> TargetNames => Targets.Count > 0 ? Targets : Excess;

    /// <summary>The full-data losses a cell whose data has noise floor <paramref name="floor"/> must reach.</summary>
    public double[] TargetsAbove(double floor) => Targets.Count > 0 ? [.. Targets] : [.. Excess.Select(e => floor + e)];

    /// <summary>
    /// A budget in steps for every cell, whatever its batch size (a full batch makes one step an epoch); null for
    /// <see cref="Training"/>'s epochs.
    /// </summary>
    public int? Steps { get; init; }

    /// <summary>
    /// Which engine trains the cells: <see cref="SweepEngine.Fused"/> (the default, on the CPU) or the reference,
    /// <see cref="SweepEngine.Torch"/>. Part of the grid: shards of one sweep must be trained alike to merge.
    /// </summary>
    public SweepEngine Engine { get; init; } = SweepEngine.Fused;

    /// <summary>Most steps a cell's budget may have.</summary>
    public const int MaxSteps = 10_000_000;

    /// <summary>
    /// The settings of a cell of batch size <paramref name="batchSize"/>: <see cref="Training"/> at that batch size,
    /// with enough epochs for <see cref="Steps"/> when a step budget is set (the last one cut short).
    /// </summary>
    public ExperimentSettings SettingsOf(int batchSize)
    {
        var settings = Training with { BatchSize = batchSize };
        return Steps is { } steps ? settings with { Epochs = (steps + settings.StepsPerEpoch - 1) / settings.StepsPerEpoch } : settings;
    }

    /// <summary>Steps a cell of batch size <paramref name="batchSize"/> trains unless it stops early: <see cref="Steps"/>, or its epochs' steps.</summary>
    public int StepBudget(int batchSize) => Steps ?? (int)SettingsOf(batchSize).TotalSteps;

    /// <summary>Steps every cell of the grid trains at most, summed over cells: the progress bar's length.</summary>
    public long CellSteps(Shard shard) => CellBatchSizes.Sum(b => (long)StepBudget(b)) * CellCountOf(shard) / CellBatchSizes.Count;

    /// <summary>Number of cells: settings x batch sizes x seeds (tuning and evaluation) x label noises.</summary>
    public long CellCount => (long)SettingCount * CellBatchSizes.Count * CellSeeds.Count * NoiseLevels.Count;

    /// <summary>The learning rates, smallest first: <c>lr_k = lr_min * (lr_max / lr_min)^(k / (count - 1))</c>, the ends exact.</summary>
    public double[] LearningRates() => Enumerable.Range(0, LrCount).Select(k =>
        k == 0 ? LrMin : k == LrCount - 1 ? LrMax : LrMin * Math.Pow(LrMax / LrMin, k / (LrCount - 1.0))).ToArray();

    /// <summary>The momenta, smallest first: <c>m_k = m_min + k * (m_max - m_min) / (count - 1)</c>, the ends exact.</summary>
    public double[] Momenta() => Enumerable.Range(0, MomentumCount).Select(k =>
        k == 0 ? MomentumMin : k == MomentumCount - 1 ? MomentumMax : MomentumMin + k * (MomentumMax - MomentumMin) / (MomentumCount - 1)).ToArray();

    /// <summary>
    /// Every (lr, momentum) setting a cell can have, in setting order. <see cref="SweepMenu.Grid"/>: every learning
    /// rate at every momentum, momentum outermost (<c>index = momentum index * lr count + lr index</c>).
    /// <see cref="SweepMenu.Equal"/>: plain SGD's <see cref="LrCount"/> learning rates at momentum 0, then as many
    /// (lr, momentum) points for momentum, a Hammersley set: point k takes the k-th learning rate and the momentum
    /// whose 1 - m is log-uniform from 1 - <see cref="MomentumMin"/> to 1 - <see cref="MomentumMax"/> at the base-3
    /// radical inverse of k + 1 (1 - m on a log scale, as Shallue et al. 2019 tune it). Each family then chooses among
    /// the same number of settings and the same learning rates: a larger menu would win more of the seeds' luck.
    /// </summary>
    public (double Lr, double Momentum)[] Settings()
    {
        var rates = LearningRates();
        if (Menu == SweepMenu.Grid)
            return Momenta().SelectMany(m => rates.Select(lr => (lr, m))).ToArray();
        double top = 1 - MomentumMin, bottom = 1 - MomentumMax;
        return [.. rates.Select(lr => (lr, 0.0)),
            .. rates.Select((lr, k) => (lr, 1 - top * Math.Pow(bottom / top, RadicalInverse(k + 1, 3))))];
    }

    /// <summary>The base-<paramref name="b"/> radical inverse of <paramref name="k"/>: its digits mirrored about the point, in [0, 1) (van der Corput).</summary>
    internal static double RadicalInverse(int k, int b)
    {
        double value = 0, scale = 1.0 / b;
        for (; k > 0; k /= b, scale /= b) value += k % b * scale;
        return value;
    }

    /// <summary>How many settings: <see cref="Settings"/>' length, counted without making them.</summary>
    public int SettingCount => Menu == SweepMenu.Grid ? LrCount * MomentumCount : 2 * LrCount;

    /// <summary>
    /// Every cell in id order, the order that never changes for a grid: label noise outermost, then seed, then batch
    /// size, then setting, so <c>id = (((noise index * seeds + seed index) * batch sizes + batch index) * settings +
    /// setting index</c> (with one label noise and one batch size, the order of a sweep without those axes; a grid
    /// menu's setting index is momentum index * lr count + lr index).
    /// </summary>
    public IEnumerable<SweepCell> Cells() => Cells(Shard.Whole);

    /// <summary>
    /// The cells of shard <paramref name="shard"/>, in id order: those whose id mod its count is its index, made
    /// straight from their ids (a shard of a billion-cell grid never walks the others).
    /// </summary>
    public IEnumerable<SweepCell> Cells(Shard shard)
    {
        var settings = Settings();
        var batchSizes = CellBatchSizes;
        var seeds = CellSeeds;
        var noises = NoiseLevels;
        for (long id = shard.Index; id < CellCount; id += shard.Count)
        {
            long setting = id % settings.Length, rest = id / settings.Length, batch = rest % batchSizes.Count;
            rest /= batchSizes.Count;
            var (lr, momentum) = settings[setting];
            yield return new SweepCell((int)id, lr, momentum, seeds[(int)(rest % seeds.Count)], batchSizes[(int)batch], noises[(int)(rest / seeds.Count)]);
        }
    }

    /// <summary>How many cells shard <paramref name="shard"/> has, counted without making them.</summary>
    public long CellCountOf(Shard shard) => CellCount <= shard.Index ? 0 : (CellCount - shard.Index + shard.Count - 1) / shard.Count;

    /// <summary>
    /// The first setting out of range (<see cref="Refusal"/>: the setting, its range, the value), or null. The
    /// shared training settings go through <see cref="ExperimentSettings.Problem"/>, the check every run has.
    /// </summary>
    public Refusal? Problem()
    {
        static string Shown(double value) => value.ToString("R", CultureInfo.InvariantCulture);
        static string N(string setting) => Refusal.Name(setting);
        if (Refusal.Check("lr-min", new Interval(0, MinOpen: true), LrMin) is { } lrMin) return lrMin;
        if (Refusal.Check("lr-max", new Interval(LrMin), LrMax) is not null) return new Refusal($"{N("lr-max")} must be a number in [{N("lr-min")} = {Shown(LrMin)}, inf) (got '{Shown(LrMax)}')");
        if (!double.IsFinite(LrMax / LrMin)) return new Refusal($"{N("lr-max")} / {N("lr-min")} must be a finite ratio (got {Shown(LrMax)} / {Shown(LrMin)}); the learning rates between them are powers of it");
        if (Refusal.Check("lr-count", 1, MaxCount, LrCount) is { } lrCount) return lrCount;
        if (Refusal.Check("momentum-min", new Interval(0, 1, MaxOpen: true), MomentumMin) is { } momentumMin) return momentumMin;
        if (Refusal.Check("momentum-max", new Interval(MomentumMin, 1, MaxOpen: true), MomentumMax) is not null)
            return new Refusal($"{N("momentum-max")} must be a number in [{N("momentum-min")} = {Shown(MomentumMin)}, 1) (got '{Shown(MomentumMax)}')");
        if (Refusal.Check("momentum-count", 1, MaxCount, MomentumCount) is { } momentumCount) return momentumCount;
        string seedsName = MeasuresSteps ? "tune-seeds" : "seeds";
        if (Seeds.Count < 1 || Seeds.Count > MaxCount || Seeds.Any(s => s < 0) || Seeds.Distinct().Count() != Seeds.Count)
            return new Refusal($"{N(seedsName)} must be 1 to {MaxCount} distinct whole numbers in [0, {long.MaxValue}], comma-separated (got '{string.Join(',', Seeds)}')");
        if (MeasuresSteps)
        {
            if (EvalSeeds.Count < 1 || EvalSeeds.Count > MaxCount || EvalSeeds.Any(s => s < 0) || EvalSeeds.Distinct().Count() != EvalSeeds.Count)
                return new Refusal($"{N("eval-seeds")} must be 1 to {MaxCount} distinct whole numbers in [0, {long.MaxValue}], comma-separated (got '{string.Join(',', EvalSeeds)}')");
            if (EvalSeeds.FirstOrDefault(Seeds.Contains, -1) is var shared and >= 0)
                return new Refusal($"{N("tune-seeds")} and {N("eval-seeds")} must not share a seed: a held-out seed chooses nothing (got {shared} in both)");
            if (Refusal.Check("studies", 1, Seeds.Count, Studies) is { } studies) return studies;
            if (Seeds.Count % Studies != 0)
                return new Refusal($"{N("studies")} must divide the {Seeds.Count} {N("tune-seeds")} into equal sets (got {Studies})");
        }
        else if (EvalSeeds.Count > 0 || Studies != 1 || Menu != SweepMenu.Grid)
            return new Refusal($"{N("eval-seeds")}, {N("studies")} and {N("menu")} equal go with a study: give {N("excess")} or {N("targets")}");
        if (LabelNoises is { } noises)
        {
            if (noises.Count < 1 || noises.Count > MaxTargets || noises.Any(n => !(n >= 0 && n <= Data.ChapterData.MaxLabelNoise)) || noises.Distinct().Count() != noises.Count)
                return new Refusal($"{N("label-noise")} must be up to {MaxTargets} distinct numbers in [0, {Shown(Data.ChapterData.MaxLabelNoise)}], comma-separated (got '{string.Join(',', noises.Select(Shown))}')");
            if (noises.Count > 1 && !MeasuresSteps)
                return new Refusal($"{N("label-noise")} takes one level for a map; several go with a study: give {N("excess")} or {N("targets")} (got '{string.Join(',', noises.Select(Shown))}')");
        }
        // Every cell's lr/(1 - momentum) is written and drawn: the largest must be a number.
        double widest = new SweepCell(0, LrMax, MomentumMax, 0, 1).EffectiveLr;
        if (!double.IsFinite(widest))
            return new Refusal($"{N("lr-max")} / (1 - {N("momentum-max")}), the largest effective lr, must be finite (got {Shown(LrMax)} / (1 - {Shown(MomentumMax)}) = {Shown(widest)})");
        // A float32 cell trains at its lr rounded to float32: one that rounds to 0 (or overflows) would train at another lr than sweep.csv says.
        if (Training.DType == ScalarType.Float32 && MomentumSgd.LearningRateVanishes(LrMin, ScalarType.Float32))
            return new Refusal($"{N("lr-min")} must be at least {Shown(float.Epsilon)}, the smallest float32, with {N("dtype")} float32 (got '{Shown(LrMin)}')");
        if (Training.DType == ScalarType.Float32 && !float.IsFinite((float)LrMax))
            return new Refusal($"{N("lr-max")} must be at most {Shown(float.MaxValue)}, the largest float32, with {N("dtype")} float32 (got '{Shown(LrMax)}')");
        if (BatchSizes is { } sizes)
        {
            if (sizes.Count < 1 || sizes.Count > MaxCount || sizes.Any(b => b < 1 || b > Training.Samples) || sizes.Distinct().Count() != sizes.Count)
                return new Refusal($"{N("batch-sizes")} must be 1 to {MaxCount} distinct whole numbers in [1, {N("samples")} = {Training.Samples}], comma-separated (got '{string.Join(',', sizes)}')");
        }
        if (Targets.Count > MaxTargets || Targets.Any(t => !(t > 0) || !double.IsFinite(t)) || Targets.Distinct().Count() != Targets.Count)
            return new Refusal($"{N("targets")} must be up to {MaxTargets} distinct losses in (0, inf), comma-separated (got '{string.Join(',', Targets.Select(Shown))}')");
        if (Excess.Count > MaxTargets || Excess.Any(t => !(t > 0) || !double.IsFinite(t)) || Excess.Distinct().Count() != Excess.Count)
            return new Refusal($"{N("excess")} must be up to {MaxTargets} distinct losses above the noise floor in (0, inf), comma-separated (got '{string.Join(',', Excess.Select(Shown))}')");
        if (Targets.Count > 0 && Excess.Count > 0) return new Refusal($"{N("targets")} and {N("excess")}: give one of them");
        if (Steps is { } budget && Refusal.Check("steps", 1, MaxSteps, budget) is { } steps) return steps;
        if (CellCount > int.MaxValue) return new Refusal($"{N("lr-count")} x {N("momentum-count")} x batch sizes x seeds must be at most {int.MaxValue} cells (got {CellCount})");
        // Every batch size's run must be one train accepts (its epochs' steps fit an int); a budget in steps is said as one.
        foreach (int b in CellBatchSizes)
        {
            if (Steps is { } stepBudget && SettingsOf(b).Epochs > ExperimentSettings.MaxEpochs)
                return new Refusal($"{N("steps")} must be at most {(long)ExperimentSettings.MaxEpochs * SettingsOf(b).StepsPerEpoch} at batch size {b}, {ExperimentSettings.MaxEpochs} epochs of {SettingsOf(b).StepsPerEpoch} steps (got '{stepBudget}')");
            if (SettingsOf(b).Problem() is { } bad) return bad;
        }
        // The fused engine keeps a batch's activations, a vector of lanes a sample and unit, in one array per thread.
        bool wide = Training.DType == ScalarType.Float64;
        int lanes = wide ? FusedStep.Lanes<double>() : FusedStep.Lanes<float>(), batch = CellBatchSizes.Max();
        long numbers = wide ? FusedStep.ScratchLength<double>(Training.Hidden, batch) : FusedStep.ScratchLength<float>(Training.Hidden, batch);
        long vectors = numbers / lanes;
        if (Engine == SweepEngine.Fused && numbers > Array.MaxLength)
            return new Refusal($"(2 + {N("hidden")}) x the largest batch size must be at most {Array.MaxLength / lanes:N0} with {N("engine")} fused, "
                + $"whose scratch holds that many vectors of {lanes} numbers in one array (got (2 + {Training.Hidden}) x {batch} = {vectors:N0}); {N("engine")} torch has no such bound");
        // With --batch-sizes, the shared settings' own batch size is not a cell's: each cell's was checked above.
        return (BatchSizes is null ? Training : Training with { BatchSize = CellBatchSizes[0] }).Problem();
    }

    /// <summary>Most targets a grid may have.</summary>
    public const int MaxTargets = 16;

    /// <summary>
    /// The most memory a sweep of <paramref name="cells"/> cells of this grid holds at once, from above: per cell its
    /// stacked weights, gradients, velocities and per-element factors (5 copies), its per-epoch losses and results
    /// (a study's full-data loss curve among them); per seed and label noise the data and a chapter run's nets; per working thread the activations of one chunk of cells. Threads
    /// beyond the chunks there are never start, so they are not counted.
    /// </summary>
    public long EstimatedPeakBytes(long cells, int threads)
    {
        long element = Training.DType == ScalarType.Float64 ? 8 : 4;
        long parameters = Model.Net.ParameterCount(Training.Hidden);
        long perCell = 5 * parameters * element + ResultBytesPerCell; // the curve is in ResultBytesPerCell
        long perSeed = Training.EstimatedPeakBytes - ExperimentSettings.RuntimeBytes;
        int widest = CellBatchSizes.Max();
        int chunkCells = SweepTraining.ChunkCells(SettingsOf(widest));
        long seeds = Math.Min((long)CellSeeds.Count * NoiseLevels.Count, cells);
        long working = Math.Min(threads, (cells + chunkCells - 1) / chunkCells + seeds * CellBatchSizes.Count);
        long perThread = 16L * chunkCells * widest * Training.Hidden * element;
        return ExperimentSettings.RuntimeBytes + cells * perCell + seeds * perSeed + working * perThread;
    }

    /// <summary>
    /// The most memory <c>sweep merge</c> holds for this grid's shard files of <paramref name="shardBytes"/> in all:
    /// the files read and parsed (twice their bytes) and every cell's results as they are written out.
    /// </summary>
    public long EstimatedMergeBytes(long shardBytes) => ExperimentSettings.RuntimeBytes + 2 * shardBytes + CellCount * ResultBytesPerCell;

    /// <summary>
    /// Bytes a cell's results take while they are written out: its epoch losses as doubles and as text, its row of
    /// sweep.csv, and the objects around them (measured: a 1M-cell, 1-epoch sweep peaks near 1 KB a cell).
    /// </summary>
    public long ResultBytesPerCell => 24L * CellBatchSizes.Max(b => SettingsOf(b).Epochs) + 24L * TargetNames.Count + CurveBytesPerCell + 1024;

    /// <summary>Bytes of a cell's full-data loss curve, kept for a study (a float a step of its budget), 0 otherwise.</summary>
    public long CurveBytesPerCell => MeasuresSteps ? 4L * CellBatchSizes.Max(StepBudget) : 0;

    /// <summary>
    /// Why a sweep of <paramref name="cells"/> cells cannot fit in <paramref name="availableBytes"/> (it may take
    /// <see cref="HostMemory.UsableFraction"/> of it), or null.
    /// </summary>
    public Refusal? MemoryProblem(long cells, int threads, long availableBytes) =>
        HostMemory.Refusal(EstimatedPeakBytes(cells, threads), availableBytes,
            $"a sweep of {cells} cells ({SettingCount} settings x {CellSeeds.Count} seeds x {NoiseLevels.Count} label noise(s), {(Steps is { } budget ? $"{Refusal.Name("steps")} {budget}" : $"{Refusal.Name("epochs")} {Training.Epochs}")}, " +
            $"{Refusal.Name("hidden")} {Training.Hidden}, batch size {string.Join(',', CellBatchSizes)})", $"make the grid smaller or run it in shards ({Refusal.Name("shard")})");
}

/// <summary>One cell of a sweep: the built-in momentum net of <c>train --lr Lr --momentum Momentum --seed Seed --batch-size BatchSize</c>.</summary>
/// <param name="Id">Its place in the grid's id order (<see cref="SweepGrid.Cells()"/>).</param>
/// <param name="Lr">Learning rate.</param>
/// <param name="Momentum">Momentum; 0 is plain SGD.</param>
/// <param name="Seed">Seed of its data, initial weights and batch order.</param>
/// <param name="BatchSize">Samples a step (an epoch's last batch may be shorter).</param>
/// <param name="LabelNoise">sigma of its data, y = x^2 + sigma * noise (the chapter's 0.1).</param>
public sealed record SweepCell(int Id, double Lr, double Momentum, long Seed, int BatchSize, double LabelNoise = Data.ChapterData.NoiseScale)
{
    /// <summary>
    /// The step size momentum reaches under a steady gradient, lr / (1 - momentum) (section 5.3: the velocity's
    /// limit is lr * g / (1 - momentum)); plain SGD at this learning rate is momentum's "bigger step" rival.
    /// </summary>
    public double EffectiveLr => Theory.ConstantGradientVelocity.Limit(Lr, Momentum, g: 1);
}

/// <summary>How a sweep lays out each family's (lr, momentum) settings (<see cref="SweepGrid.Settings"/>).</summary>
public enum SweepMenu
{
    /// <summary>Every learning rate at every momentum: the map.</summary>
    Grid,

    /// <summary>As many settings for momentum as plain SGD has learning rates: a study's fair menus.</summary>
    Equal,
}

/// <summary>What trains a sweep's cells.</summary>
public enum SweepEngine
{
    /// <summary><see cref="FusedStep"/>: one pass per step in C#, a cell per vector lane (CPU only).</summary>
    Fused,

    /// <summary><see cref="StackedNet"/> on libtorch: the reference engine, and the one on CUDA.</summary>
    Torch,
}

/// <summary>A part of a sweep for one process: the cells whose id mod <paramref name="Count"/> is <paramref name="Index"/>.</summary>
/// <param name="Index">From 0 to Count - 1.</param>
/// <param name="Count">How many shards the sweep is cut into.</param>
public readonly record struct Shard(int Index, int Count)
{
    /// <summary>The whole sweep, in one process.</summary>
    public static readonly Shard Whole = new(0, 1);

    /// <summary>The most shards a sweep is cut into (as a Slurm job array's or a Kubernetes Job's tasks).</summary>
    public const int MaxCount = 100_000;

    /// <inheritdoc />
    public override string ToString() => $"{Index}/{Count}";
}
