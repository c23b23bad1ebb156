using TorchMomentum.Sweeps;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

/// <summary>The sweep's batched training against train's own loop, and against itself cut differently.</summary>
public class SweepTrainingTests
{
    private static IReadOnlyList<CellResult> Train(SweepGrid grid, Shard shard, int threads = 1) => SweepTraining.Train(grid, shard, CPU, threads);

    /// <summary>train's momentum column for one cell: every epoch's mean loss and the last step's loss.</summary>
    private static (double[] Epochs, double Final) MomentumColumn(ExperimentSettings settings)
    {
        using var run = new ChapterRun(settings, CPU);
        var history = run.NewHistory();
        run.TrainToEnd(history);
        return (history.EpochMeanLosses.Select(e => e[1]).ToArray(), history.LastStepLosses![1]);
    }

    private static double LargestRelativeDifference(SweepGrid grid, IReadOnlyList<CellResult> results)
    {
        double worst = 0;
        foreach (var r in results)
        {
            var (epochs, final) = MomentumColumn(grid.SettingsOf(r.Cell.BatchSize) with { Seed = r.Cell.Seed, LearningRate = r.Cell.Lr, Momentum = r.Cell.Momentum });
            Assert.Null(r.DivergedStep);
            Assert.Equal(epochs.Length, r.EpochLosses.Length);
            foreach (var (ours, theirs) in r.EpochLosses.Append(r.FinalLoss!.Value).Zip(epochs.Append(final)))
                worst = Math.Max(worst, Math.Abs(ours - theirs) / Math.Abs(theirs));
        }
        return worst;
    }

    [Theory]
    [InlineData(SweepEngine.Fused)]
    [InlineData(SweepEngine.Torch)]
    public void In_float64_every_cell_is_trains_momentum_column_to_1e_10(SweepEngine engine)
    {
        var grid = new SweepGrid
        {
            Engine = engine,
            LrMin = 0.003, LrMax = 0.1, LrCount = 3, MomentumMin = 0, MomentumMax = 0.9, MomentumCount = 2, Seeds = [1, 7],
            Training = new ExperimentSettings { DType = ScalarType.Float64 }, // the chapter's 12 epochs, as the README says
        };
        double worst = LargestRelativeDifference(grid, Train(grid, Shard.Whole));
        Assert.InRange(worst, 0, 1e-10);
    }

    [Theory]
    [InlineData(SweepEngine.Fused)]
    [InlineData(SweepEngine.Torch)]
    public void In_float64_a_cell_of_any_batch_size_is_train_at_that_batch_size_to_1e_10(SweepEngine engine)
    {
        // 7 leaves a short last batch (1000 = 142 x 7 + 6); 1000 is the full batch, one step an epoch.
        var grid = new SweepGrid
        {
            Engine = engine,
            LrMin = 0.01, LrMax = 0.2, LrCount = 2, MomentumMin = 0, MomentumMax = 0.9, MomentumCount = 2, Seeds = [3], BatchSizes = [7, 1000],
            Training = new ExperimentSettings { DType = ScalarType.Float64, Epochs = 3 },
        };
        double worst = LargestRelativeDifference(grid, Train(grid, Shard.Whole));
        Assert.InRange(worst, 0, 1e-10);
    }

    [Theory]
    [InlineData(SweepEngine.Fused)]
    [InlineData(SweepEngine.Torch)]
    public void In_float32_every_cell_is_trains_momentum_column_within_the_bound_the_readme_states(SweepEngine engine)
    {
        // The chapter's 12 epochs at the chapter's point and around it. Measured on the project's machine: 9.6e-7 (float64: 1.6e-15).
        var grid = new SweepGrid
        {
            Engine = engine,
            LrMin = 0.01, LrMax = 0.05, LrCount = 2, MomentumMin = 0, MomentumMax = 0.8, MomentumCount = 2, Seeds = [1],
        };
        double worst = LargestRelativeDifference(grid, Train(grid, Shard.Whole));
        Assert.InRange(worst, 0, 1e-5);
    }

    [Theory]
    [InlineData(ScalarType.Float32, SweepEngine.Fused)]
    [InlineData(ScalarType.Float64, SweepEngine.Fused)]
    [InlineData(ScalarType.Float32, SweepEngine.Torch)]
    [InlineData(ScalarType.Float64, SweepEngine.Torch)]
    public void A_cells_numbers_do_not_depend_on_which_cells_share_its_stack(ScalarType dtype, SweepEngine engine)
    {
        // An odd batch size and width, so that vectorised loops end in a scalar tail at places that move with the
        // stack's size, and (fused) a cell sits in another lane of another group in each cut.
        var grid = new SweepGrid
        {
            Engine = engine,
            LrMin = 0.01, LrMax = 1000, LrCount = 5, MomentumCount = 3, Seeds = [2, 3],
            Training = new ExperimentSettings { Epochs = 4, Samples = 61, BatchSize = 5, Hidden = 7, DType = dtype },
        };
        var whole = Train(grid, Shard.Whole, threads: 2);
        var parts = Enumerable.Range(0, 4).SelectMany(i => Train(grid, new Shard(i, 4))).OrderBy(r => r.Cell.Id).ToList();
        Assert.Equal(whole.Count, parts.Count);
        Assert.Contains(whole, r => r.DivergedStep is not null); // lr 1000 blows up: its NaN must not reach the others
        foreach (var (a, b) in whole.Zip(parts))
        {
            Assert.Equal(a.Cell, b.Cell);
            Assert.Equal(a.DivergedStep, b.DivergedStep);
            Assert.Equal(a.FinalLoss, b.FinalLoss);
            Assert.Equal(a.EpochLosses, b.EpochLosses);
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void The_fused_engines_vector_and_scalar_paths_give_the_same_bits(ScalarType dtype)
    {
        Assert.SkipUnless(FusedStep.VectorPathRuns, "needs 256-bit vectors with FMA (the vector path) to compare the scalar path with");
        // Divergence (lr 1e6: float64 too reaches infinity within the 100 steps), a short last batch, two batch sizes and targets: every branch of the step.
        var grid = new SweepGrid
        {
            LrMin = 0.01, LrMax = 1e6, LrCount = 5, MomentumCount = 3, Seeds = [2], BatchSizes = [5, 61], Targets = [0.3, 0.08], Steps = 100,
            Training = new ExperimentSettings { Samples = 61, Hidden = 7, DType = dtype },
        };
        var vector = Train(grid, Shard.Whole);
        IReadOnlyList<CellResult> scalar;
        SweepTraining.ForceScalar = true;
        try
        {
            scalar = Train(grid, Shard.Whole);
        }
        finally
        {
            SweepTraining.ForceScalar = false;
        }
        Assert.Contains(vector, r => r.DivergedStep is not null);
        Assert.Contains(vector, r => r.StepsToTargets.All(s => s is not null));
        foreach (var (a, b) in vector.Zip(scalar))
        {
            Assert.Equal(a.DivergedStep, b.DivergedStep);
            Assert.Equal(a.FinalLoss is { } fa ? BitConverter.DoubleToInt64Bits(fa) : 0, b.FinalLoss is { } fb ? BitConverter.DoubleToInt64Bits(fb) : 0);
            Assert.Equal(a.EpochLosses.Select(BitConverter.DoubleToInt64Bits), b.EpochLosses.Select(BitConverter.DoubleToInt64Bits));
            Assert.Equal(a.StepsToTargets, b.StepsToTargets);
        }
    }

    [Fact]
    public void In_float64_both_engines_take_the_same_steps_to_every_target()
    {
        var grid = new SweepGrid
        {
            LrMin = 0.03, LrMax = 0.4, LrCount = 4, MomentumMin = 0, MomentumMax = 0.9, MomentumCount = 3, Seeds = [1, 2], BatchSizes = [1, 32, 1000],
            Targets = [0.0204, 0.0154, 0.0124], Steps = 300, Training = new ExperimentSettings { DType = ScalarType.Float64 },
        };
        var fused = Train(grid, Shard.Whole, threads: 2);
        var torch = Train(grid with { Engine = SweepEngine.Torch }, Shard.Whole, threads: 2);
        Assert.Equal(torch.Select(r => r.StepsToTargets), fused.Select(r => r.StepsToTargets));
        Assert.True(fused.Sum(r => r.StepsToTargets.Count(s => s is not null)) > 100, "the comparison is of steps, not of empty columns");
    }

    [Theory]
    [InlineData(SweepEngine.Fused)]
    [InlineData(SweepEngine.Torch)]
    public void A_diverged_cell_is_recorded_at_trains_step_and_keeps_its_finished_epochs(SweepEngine engine)
    {
        // train racing momentum alone: its blow-up is momentum's own (with plain SGD beside it, SGD blows up first), and
        // a sweep whose training settings name the same contestants starts its cells from the same draw.
        var settings = new ExperimentSettings { Epochs = 3, LearningRate = 2.5, Momentum = 0.5, Contestants = ContestantNames.Momentum };
        using var run = new ChapterRun(settings, CPU);
        var history = run.NewHistory();
        run.TrainToEnd(history);
        Assert.Equal(ContestantNames.Momentum, run.Divergence?.Optimizer);
        Assert.True(run.Divergence!.Step >= settings.StepsPerEpoch, $"diverged at step {run.Divergence.Step}, in epoch 0: no finished epoch to keep");

        var grid = new SweepGrid { Engine = engine, LrMin = 2.5, LrMax = 2.5, LrCount = 1, MomentumMin = 0.5, MomentumMax = 0.5, MomentumCount = 1, Seeds = [1], Training = settings };
        var cell = Train(grid, Shard.Whole).Single();
        Assert.Null(cell.FinalLoss);
        Assert.Null(cell.LastEpochLoss);
        Assert.Equal(run.Divergence.Step, cell.DivergedStep);
        var epochs = history.EpochMeanLosses.Select(e => e[0]).ToArray();
        Assert.Equal(epochs.Length, cell.EpochLosses.Length);
        Assert.All(cell.EpochLosses.Zip(epochs), p => Assert.Equal(p.Second, p.First, Math.Abs(p.Second) * 1e-5));
    }

    [Fact]
    public void The_grid_spaces_learning_rates_by_log_and_momenta_evenly_with_exact_ends()
    {
        var grid = new SweepGrid();
        Assert.Equal(4096, grid.CellCount);
        var rates = grid.LearningRates();
        Assert.Equal(1e-3, rates[0]);
        Assert.Equal(1, rates[^1]);
        Assert.Equal(Math.Sqrt(rates[10] * rates[12]), rates[11], 1e-12);
        var momenta = grid.Momenta();
        Assert.Equal([0, 0.99], new[] { momenta[0], momenta[^1] });
        Assert.Equal(0.99 / 31, momenta[1], 1e-15);
        Assert.Equal([0.5], (grid with { MomentumMin = 0.5, MomentumCount = 1 }).Momenta());
        var cells = grid.Cells().ToList();
        Assert.Equal(Enumerable.Range(0, 4096), cells.Select(c => c.Id));
        Assert.Equal((rates[3], momenta[2], 2L), (cells[32 * 32 + 2 * 32 + 3].Lr, cells[32 * 32 + 2 * 32 + 3].Momentum, cells[32 * 32 + 2 * 32 + 3].Seed));
        Assert.Equal(Enumerable.Range(0, 1024).Select(i => 4 * i + 1), grid.Cells(new Shard(1, 4)).Select(c => c.Id));
    }
}
