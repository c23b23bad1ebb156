using TorchMomentum.Data;
using TorchMomentum.Sweeps;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

/// <summary>
/// Momentum's family in the fused kernel (issue 40): a cell that steps by a family's update is train's contestant of
/// that family, in float64 to 1e-10 over the chapter's 12 epochs, and the kernel's vector and scalar paths give it the
/// same bits.
/// </summary>
public class FusedFamilyTests
{
    /// <summary>train's third column, the contestant: every epoch's mean loss, the last step's, and its full-data loss at the weights it is judged at.</summary>
    private static (double[] Epochs, double Final, double Judged) Train(ExperimentSettings settings)
    {
        using var run = new ChapterRun(settings, CPU);
        var history = run.NewHistory();
        run.TrainToEnd(history);
        return ([.. history.EpochMeanLosses.Select(e => e[2])], history.LastStepLosses![2], run.FullDataLosses()[2]);
    }

    /// <summary>
    /// Cells of one family trained by the fused engine as a sweep trains a chunk, from train's start for these settings,
    /// every epoch; with <paramref name="curve"/>, their full-data loss is taken after every step (at a target none
    /// reaches), at the weights each is judged at.
    /// </summary>
    private static CellResult[] Fused(ExperimentSettings settings, SweepCell[] cells, FusedFamily family, double[][] knobs, bool scalar = false, bool curve = false)
    {
        int budget = (int)settings.TotalSteps;
        var ledger = new CellLedger(cells, settings, curve ? [1e-12] : [], budget);
        using var start = new ChapterRun(settings, CPU);
        var (x, y) = start.DataInFloat64();
        using var chunk = new FusedChunk<double>(cells, start, new EpochOrderReplay(start.GeneratorState, settings.Samples), settings, budget, ledger,
            curve ? new Model.FullDataLoss(x, y) : null, scalar, family, knobs);
        for (int epoch = 0; epoch < settings.Epochs; epoch++) chunk.TrainEpoch(epoch, null, CancellationToken.None);
        return [.. ledger.Results(settings.Epochs)];
    }

    [Theory]
    // train's knobs (ContestantKinds) at the chapter's lr 0.01 and momentum 0.8: Nesterov at them, QHM at lr/(1 - m) with
    // beta 0.9 and nu 0.7, Lion at lr 0.001 with betas 0.9 and 0.99; and the same families elsewhere in their spaces.
    [InlineData(FusedFamily.Nesterov, "nesterov", "", 0.01, 0.8)]
    [InlineData(FusedFamily.Nesterov, "nesterov", "", 0.1, 0.5)]
    [InlineData(FusedFamily.Qhm, "qhm", "", 0.05, 0.9, 0.7)]
    [InlineData(FusedFamily.Qhm, "qhm", "qhm.lr=0.2,qhm.beta=0.99,qhm.nu=0.3", 0.2, 0.99, 0.3)]
    [InlineData(FusedFamily.Lion, "lion", "", 0.001, 0.9, 0.99)]
    [InlineData(FusedFamily.Lion, "lion", "lion.lr=0.003,lion.beta1=0.95,lion.beta2=0.98", 0.003, 0.95, 0.98)]
    // AccSGD at train's lr 0.01 with its authors' kappa 1000, xi 10 and c 0.7, and elsewhere (its momentum unread).
    [InlineData(FusedFamily.AccSgd, "accsgd", "", 0.01, 0.0, 1000.0, 10.0, 0.7)]
    [InlineData(FusedFamily.AccSgd, "accsgd", "accsgd.lr=0.003,accsgd.kappa=100,accsgd.xi=5,accsgd.small_const=0.5", 0.003, 0.0, 100.0, 5.0, 0.5)]
    // AggMo at train's lr 0.01 with its authors' betas 0, 0.9 and 0.99, and elsewhere (three buffers; its momentum unread).
    [InlineData(FusedFamily.AggMo, "aggmo", "", 0.01, 0.0, 0.0, 0.9, 0.99)]
    [InlineData(FusedFamily.AggMo, "aggmo", "aggmo.lr=0.002,aggmo.betas=0.5:0.8:0.95", 0.002, 0.0, 0.5, 0.8, 0.95)]
    public void In_float64_a_family_cell_is_trains_contestant_to_1e_10_on_both_paths(FusedFamily family, string contestant, string knobs, double lr, double momentum,
        params double[] cellKnobs)
    {
        // The contestant races beside the chapter's two nets, so that its batches are drawn as the sweep's cells' are.
        // Nesterov has no knobs of its own: it takes the run's lr and momentum.
        var settings = new ExperimentSettings { DType = ScalarType.Float64, Contestants = $"sgd,momentum,{contestant}", ContestantSettings = knobs };
        if (family == FusedFamily.Nesterov) settings = settings with { LearningRate = lr, Momentum = momentum };
        var (epochs, final, _) = Train(settings);

        var bits = new List<long[]>();
        foreach (bool scalar in new[] { false, true })
        {
            var result = Fused(settings, [new SweepCell(0, lr, momentum, settings.Seed, settings.BatchSize, settings.LabelNoise)], family, [cellKnobs], scalar).Single();
            Assert.Null(result.DivergedStep);
            Assert.Equal(epochs.Length, result.EpochLosses.Length);
            foreach (var (ours, theirs) in result.EpochLosses.Append(result.FinalLoss!.Value).Zip(epochs.Append(final)))
                Assert.True(Math.Abs(ours - theirs) <= 1e-10 * Math.Abs(theirs), $"{family} ({(scalar ? "scalar" : "vector")} path): {ours} against train's {theirs}");
            bits.Add([.. result.EpochLosses.Append(result.FinalLoss!.Value).Select(BitConverter.DoubleToInt64Bits)]);
        }
        Assert.Equal(bits[0], bits[1]);
    }

    [Theory]
    [InlineData(FusedFamily.Nesterov, 0.0)]
    [InlineData(FusedFamily.Qhm, 0.7)]
    [InlineData(FusedFamily.Lion, 0.99)]
    public void A_cell_that_diverges_freezes_and_leaves_the_cells_beside_it_as_they_are_alone(FusedFamily family, double knob)
    {
        // Lion's step is lr sign(c): it cannot blow up, so its loud cell only wanders; the others' diverge.
        var settings = new ExperimentSettings { DType = ScalarType.Float64, Epochs = 3 };
        double loud = family == FusedFamily.Lion ? 5.0 : family == FusedFamily.Qhm ? 500.0 : 50.0;
        var quiet = new SweepCell(1, family == FusedFamily.Lion ? 0.001 : 0.01, 0.9, settings.Seed, settings.BatchSize, settings.LabelNoise);
        CellResult[] Run(params SweepCell[] cells) => Fused(settings, cells, family, [.. cells.Select(_ => new[] { knob })]);
        var together = Run(new SweepCell(0, loud, 0.9, settings.Seed, settings.BatchSize, settings.LabelNoise), quiet);
        var alone = Run(quiet with { Id = 0 });
        if (family != FusedFamily.Lion)
        {
            Assert.NotNull(together[0].DivergedStep);
            Assert.All(together[0].EpochLosses, l => Assert.True(double.IsFinite(l)));
        }
        Assert.Null(together[1].DivergedStep);
        Assert.Equal(alone[0].EpochLosses.Select(BitConverter.DoubleToInt64Bits), together[1].EpochLosses.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(alone[0].FinalLoss, together[1].FinalLoss);
    }

    [Theory]
    [InlineData("", 0.01, 0.8, 0.99)]
    [InlineData("ema.decay=0.9", 0.05, 0.5, 0.9)]
    public void In_float64_an_ema_cell_trains_as_trains_ema_and_is_judged_at_its_average(string knobs, double lr, double momentum, double decay)
    {
        var settings = new ExperimentSettings { DType = ScalarType.Float64, Contestants = "sgd,momentum,ema", ContestantSettings = knobs, LearningRate = lr, Momentum = momentum };
        var (epochs, _, judged) = Train(settings); // judged at the average
        var result = Fused(settings, [new SweepCell(0, lr, momentum, settings.Seed, settings.BatchSize, settings.LabelNoise)], FusedFamily.Ema, [[decay]], curve: true).Single();
        Assert.All(result.EpochLosses.Zip(epochs), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-10 * p.Second, $"{p.First} against train's {p.Second}"));
        // The curve is kept as float32: the average's loss to its precision, and not the trained weights' loss.
        Assert.Equal(judged, result.Curve[^1], judged * 1e-6);
        Assert.NotEqual(result.EpochLosses[^1], result.Curve[^1], judged * 1e-3);
    }

    [Theory]
    [InlineData("", 0.1, 0.9, 0.0, 0.0, 2.0)]
    [InlineData("schedule-free.lr=0.05,schedule-free.momentum=0.8,schedule-free.warmup_steps=20,schedule-free.r=0.5,schedule-free.weight_lr_power=1", 0.05, 0.8, 20.0, 0.5, 1.0)]
    public void In_float64_a_schedule_free_cell_trains_at_y_as_train_and_is_judged_at_x(string knobs, double lr, double momentum, double warmup, double r, double power)
    {
        var settings = new ExperimentSettings { DType = ScalarType.Float64, Contestants = "sgd,momentum,schedule-free", ContestantSettings = knobs };
        var (epochs, _, judged) = Train(settings); // judged at x

        var bits = new List<long[]>();
        foreach (bool scalar in new[] { false, true })
        {
            var result = Fused(settings, [new SweepCell(0, lr, momentum, settings.Seed, settings.BatchSize, settings.LabelNoise)], FusedFamily.ScheduleFree,
                [[warmup, r, power]], scalar, curve: true).Single();
            Assert.All(result.EpochLosses.Zip(epochs), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-10 * p.Second, $"{p.First} against train's {p.Second}"));
            Assert.Equal(judged, result.Curve[^1], judged * 1e-6);
            Assert.NotEqual(result.EpochLosses[^1], result.Curve[^1], judged * 1e-3);
            bits.Add([.. result.EpochLosses.Select(BitConverter.DoubleToInt64Bits), BitConverter.SingleToInt32Bits(result.Curve[^1])]);
        }
        Assert.Equal(bits[0], bits[1]);
    }

    [Fact]
    public void A_family_given_the_wrong_knobs_or_too_little_room_says_which_and_what_it_needs()
    {
        var into = new double[5];
        var knobs = Assert.Throws<ArgumentException>(() => FusedUpdates.Derive(FusedFamily.AccSgd, 0.01, 0, [1000, 10], into));
        Assert.Equal("knobs", knobs.ParamName);
        Assert.Contains("3 number(s) for AccSgd (got 2)", knobs.Message);
        int lanes = FusedStep.Lanes<float>(), p = Model.Net.ParameterCount(2);
        var state = Assert.Throws<ArgumentException>(() => FusedStep.Step<float>(FusedFamily.AggMo, new float[p * lanes], new float[p * lanes], new float[lanes], new float[lanes],
            new float[4 * lanes], new float[lanes], new float[1], new float[1], 2, new float[4 * lanes], new float[lanes]));
        Assert.Equal("velocities", state.ParamName);
        Assert.Contains($"at least {3 * p * lanes} numbers for this family (3 buffer(s)", state.Message);
    }
}
