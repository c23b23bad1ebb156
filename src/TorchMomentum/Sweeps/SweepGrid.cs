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

    /// <summary>The seeds, each fixing data, initial weights and batch order, as <c>train --seed</c> does.</summary>
    public IReadOnlyList<long> Seeds { get; init; } = [1, 2, 3, 4];

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
    /// Full-data losses to reach, largest first or in any order: a cell reports the first step whose full-data loss
    /// (<see cref="FullDataLoss"/>, taken after every step) is at or below each, and stops once it has reached them all.
    /// </summary>
    public IReadOnlyList<double> Targets { get; init; } = [];

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

    /// <summary>Number of cells: learning rates x momenta x batch sizes x seeds.</summary>
    public long CellCount => (long)LrCount * MomentumCount * CellBatchSizes.Count * Seeds.Count;

    /// <summary>The learning rates, smallest first: <c>lr_k = lr_min * (lr_max / lr_min)^(k / (count - 1))</c>, the ends exact.</summary>
    public double[] LearningRates() => Enumerable.Range(0, LrCount).Select(k =>
        k == 0 ? LrMin : k == LrCount - 1 ? LrMax : LrMin * Math.Pow(LrMax / LrMin, k / (LrCount - 1.0))).ToArray();

    /// <summary>The momenta, smallest first: <c>m_k = m_min + k * (m_max - m_min) / (count - 1)</c>, the ends exact.</summary>
    public double[] Momenta() => Enumerable.Range(0, MomentumCount).Select(k =>
        k == 0 ? MomentumMin : k == MomentumCount - 1 ? MomentumMax : MomentumMin + k * (MomentumMax - MomentumMin) / (MomentumCount - 1)).ToArray();

    /// <summary>
    /// Every cell in id order, the order that never changes for a grid: seed outermost, then batch size, then
    /// momentum, then learning rate, so <c>id = ((seed index * batch sizes + batch index) * momentum count + momentum
    /// index) * lr count + lr index</c> (with one batch size, the order of a sweep without the axis).
    /// </summary>
    public IEnumerable<SweepCell> Cells() => Cells(Shard.Whole);

    /// <summary>
    /// The cells of shard <paramref name="shard"/>, in id order: those whose id mod its count is its index, made
    /// straight from their ids (a shard of a billion-cell grid never walks the others).
    /// </summary>
    public IEnumerable<SweepCell> Cells(Shard shard)
    {
        var rates = LearningRates();
        var momenta = Momenta();
        var batchSizes = CellBatchSizes;
        for (long id = shard.Index; id < CellCount; id += shard.Count)
        {
            long lr = id % LrCount, rest = id / LrCount, momentum = rest % MomentumCount;
            rest /= MomentumCount;
            yield return new SweepCell((int)id, rates[lr], momenta[momentum], Seeds[(int)(rest / batchSizes.Count)], batchSizes[(int)(rest % batchSizes.Count)]);
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
        if (Seeds.Count < 1 || Seeds.Count > MaxCount || Seeds.Any(s => s < 0) || Seeds.Distinct().Count() != Seeds.Count)
            return new Refusal($"{N("seeds")} must be 1 to {MaxCount} distinct whole numbers in [0, {long.MaxValue}], comma-separated (got '{string.Join(',', Seeds)}')");
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
        if (Steps is { } budget && Refusal.Check("steps", 1, MaxSteps, budget) is { } steps) return steps;
        if (CellCount > int.MaxValue) return new Refusal($"{N("lr-count")} x {N("momentum-count")} x batch sizes x seeds must be at most {int.MaxValue} cells (got {CellCount})");
        // Every batch size's run must be one train accepts (its epochs' steps fit an int).
        foreach (int b in CellBatchSizes)
            if (SettingsOf(b).Problem() is { } bad) return bad;
        // The fused engine keeps a batch's activations, a vector of lanes a sample and unit, in one array per thread.
        bool wide = Training.DType == ScalarType.Float64;
        int lanes = wide ? FusedStep.Lanes<double>() : FusedStep.Lanes<float>(), batch = CellBatchSizes.Max();
        long numbers = wide ? FusedStep.ScratchLength<double>(Training.Hidden, batch) : FusedStep.ScratchLength<float>(Training.Hidden, batch);
        long vectors = numbers / lanes;
        if (Engine == SweepEngine.Fused && numbers > Array.MaxLength)
            return new Refusal($"(2 + {N("hidden")}) x the largest batch size must be at most {Array.MaxLength / lanes:N0} with {N("engine")} fused, "
                + $"whose scratch holds that many vectors of {lanes} numbers in one array (got (2 + {Training.Hidden}) x {batch} = {vectors:N0}); {N("engine")} torch has no such bound");
        return Training.Problem();
    }

    /// <summary>Most targets a grid may have.</summary>
    public const int MaxTargets = 16;

    /// <summary>
    /// The most memory a sweep of <paramref name="cells"/> cells of this grid holds at once, from above: per cell its
    /// stacked weights, gradients, velocities and per-element factors (5 copies), its per-epoch losses and results;
    /// per seed the data and a chapter run's nets; per working thread the activations of one chunk of cells. Threads
    /// beyond the chunks there are never start, so they are not counted.
    /// </summary>
    public long EstimatedPeakBytes(long cells, int threads)
    {
        long element = Training.DType == ScalarType.Float64 ? 8 : 4;
        long parameters = 3L * Training.Hidden + 1;
        long perCell = 5 * parameters * element + ResultBytesPerCell;
        long perSeed = Training.EstimatedPeakBytes - ExperimentSettings.RuntimeBytes;
        int widest = CellBatchSizes.Max();
        int chunkCells = SweepTraining.ChunkCells(SettingsOf(widest));
        long seeds = Math.Min(Seeds.Count, cells);
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
    public long ResultBytesPerCell => 24L * CellBatchSizes.Max(b => SettingsOf(b).Epochs) + 16L * Targets.Count + 1024;

    /// <summary>
    /// Why a sweep of <paramref name="cells"/> cells cannot fit in <paramref name="availableBytes"/> (it may take
    /// <see cref="HostMemory.UsableFraction"/> of it), or null.
    /// </summary>
    public Refusal? MemoryProblem(long cells, int threads, long availableBytes) =>
        HostMemory.Refusal(EstimatedPeakBytes(cells, threads), availableBytes,
            $"a sweep of {cells} cells ({LrCount} learning rates x {MomentumCount} momenta x {Seeds.Count} seeds, {Refusal.Name("epochs")} {Training.Epochs}, " +
            $"{Refusal.Name("hidden")} {Training.Hidden}, batch size {string.Join(',', CellBatchSizes)})", $"make the grid smaller or run it in shards ({Refusal.Name("shard")})");
}

/// <summary>One cell of a sweep: the built-in momentum net of <c>train --lr Lr --momentum Momentum --seed Seed --batch-size BatchSize</c>.</summary>
/// <param name="Id">Its place in the grid's id order (<see cref="SweepGrid.Cells()"/>).</param>
/// <param name="Lr">Learning rate.</param>
/// <param name="Momentum">Momentum; 0 is plain SGD.</param>
/// <param name="Seed">Seed of its data, initial weights and batch order.</param>
/// <param name="BatchSize">Samples a step (an epoch's last batch may be shorter).</param>
public sealed record SweepCell(int Id, double Lr, double Momentum, long Seed, int BatchSize)
{
    /// <summary>
    /// The step size momentum reaches under a steady gradient, lr / (1 - momentum) (section 5.3: the velocity's
    /// limit is lr * g / (1 - momentum)); plain SGD at this learning rate is momentum's "bigger step" rival.
    /// </summary>
    public double EffectiveLr => Theory.ConstantGradientVelocity.Limit(Lr, Momentum, g: 1);
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

    /// <inheritdoc />
    public override string ToString() => $"{Index}/{Count}";
}
