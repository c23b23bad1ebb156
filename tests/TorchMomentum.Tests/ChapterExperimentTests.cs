using TorchMomentum.Model;
using TorchMomentum.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

public class ChapterExperimentTests
{
    private static ExperimentResult Run(ExperimentSettings settings)
    {
        using var run = new ChapterRun(settings, CPU);
        return run.TrainToEnd(run.NewHistory());
    }

    [Theory]
    // PyTorch itself shows 1.19e-7 (float32) and 2.2e-16 (float64) on the same comparison.
    [InlineData(ScalarType.Float32, 2e-7)]
    [InlineData(ScalarType.Float64, 5e-16)]
    public void Handwritten_step_tracks_builtin_momentum_over_the_chapters_12_epochs(ScalarType dtype, double tolerance)
    {
        var result = Run(new ExperimentSettings { DType = dtype });
        Assert.Equal(12 * 32, result.Losses.Steps);
        Assert.InRange(result.MaxParameterDifference!.Value, 0, tolerance);
    }

    [Fact]
    public void Momentum_ends_lower_than_plain_sgd_as_the_chapter_shows()
    {
        var result = Run(new ExperimentSettings());
        var last = result.Losses.EpochMeanLosses[^1];
        Assert.True(last[1] < last[0] / 2, $"momentum {last[1]} vs sgd {last[0]}");
        Assert.True(last[0] < result.Losses.EpochMeanLosses[0][0], "plain SGD did not learn at all");
    }

    [Fact]
    public void The_fit_shows_momentum_learned_the_curve_and_plain_sgd_did_not_yet()
    {
        using var run = new ChapterRun(new ExperimentSettings(), CPU);
        run.TrainToEnd(run.NewHistory());
        var fit = run.Fit(points: 101);
        Assert.Equal(1000, fit.DataX.Length);
        Assert.Equal(TorchMomentum.Data.ChapterData.NoiseFloor(0.1), fit.DataX.Zip(fit.DataY).Select(p => p.First * p.First - p.Second).Select(d => d * d).Average(), 0.003); // the noise floor, in the data
        double Error(int contestant) => fit.GridX.Zip(fit.Predictions[contestant]).Average(p => Math.Abs(p.Second - p.First * p.First));
        // Measured: momentum 0.04, plain SGD 0.17 (it still draws a flat line through the parabola).
        Assert.InRange(Error(1), 0, 0.06);
        Assert.InRange(Error(0), 0.1, 1);
        using var at = tensor(new[] { (float)fit.GridX[30] }).unsqueeze(1);
        using var noGrad = no_grad();
        using var predicted = run.NetOf("momentum")!.forward(at);
        Assert.Equal(predicted.item<float>(), fit.Predictions[1][30], 1e-6); // one input alone rounds a little otherwise than the batch
    }

    [Fact]
    public void Epoch_means_weigh_each_batch_by_its_size()
    {
        var settings = new ExperimentSettings { Epochs = 1, Samples = 100, BatchSize = 32 };
        var result = Run(settings);
        var steps = result.Losses.Sampled.Select(s => s.Losses).ToList();
        Assert.Equal(4, steps.Count);
        double expected = (steps.Take(3).Sum(l => l[0]) * 32 + steps[3][0] * 4) / 100;
        Assert.Equal(expected, result.Losses.EpochMeanLosses[0][0], 12);
    }

    [Fact]
    public void A_thinned_sample_keeps_each_steps_own_losses()
    {
        var history = new LossHistory(new ExperimentSettings { Epochs = 100, Samples = 1000, BatchSize = 10 }, 2);
        for (int step = 0; step < 3 * LossHistory.MaxSampled + 5; step++) history.Add([step, -step]);

        var sampled = history.Sampled;
        Assert.Equal(4, sampled[1].Step); // thinned twice
        Assert.All(sampled, s => Assert.Equal([s.Step, -s.Step], s.Losses));
    }

    [Fact]
    public void The_lockstep_loop_refuses_two_contestants_that_share_a_net()
    {
        using var net = new Model.Net();
        using var first = optim.SGD(net.parameters(), 0.01);
        using var second = optim.SGD(net.parameters(), 0.01, 0.8);
        using var x = zeros(4, 1);
        using var y = zeros(4, 1);

        var error = Assert.Throws<ArgumentException>(() => LockstepTraining.Run(x, y, 2, 1, [new("a", net, first), new("b", net, second)]).First());
        Assert.Contains("a net of its own", error.Message);
    }

    [Fact]
    public void A_long_history_keeps_every_epoch_mean_and_a_bounded_sample_of_steps()
    {
        var settings = new ExperimentSettings { Epochs = 3000, Samples = 10, BatchSize = 4 };
        var history = new LossHistory(settings, 1);
        for (int step = 0; step < 3000 * 3; step++) history.Add([step % 3 == 2 ? 1.0 : 3.0]);

        Assert.Equal(9000, history.Steps);
        Assert.Equal(3000, history.EpochMeanLosses.Count);
        Assert.All(history.EpochMeanLosses, mean => Assert.Equal((3.0 * 4 + 3.0 * 4 + 1.0 * 2) / 10, mean[0], 12));
        Assert.InRange(history.Sampled.Count, LossHistory.MaxSampled / 2, LossHistory.MaxSampled);
        Assert.Equal(0, history.Sampled[0].Step);
        int stride = history.Sampled[1].Step;
        Assert.All(history.Sampled.Select((s, i) => (s, i)), p => Assert.Equal(p.i * stride, p.s.Step));
        Assert.Equal([1.0], history.LastStepLosses!);
    }

    [Fact]
    public void Soak_native_tensors_stay_flat_over_steps_and_checkpoints_and_are_freed_at_the_end()
    {
        // Live tensors on this thread, by TorchSharp's own bookkeeping.
        var stats = DisposeScopeManager.Statistics.TensorStatistics;
        long Live() => stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount - stats.DisposedInScopeCount - stats.DisposedOutsideScopeCount;

        long before = Live();
        var liveAtEachStep = new List<long>();
        using (var run = new ChapterRun(new ExperimentSettings { Epochs = 100 }, CPU))
        {
            foreach (var step in run.Train())
            {
                liveAtEachStep.Add(Live());
                if (step.EndsEpoch) run.Checkpoint(1, new byte[32]);
            }
        }

        Assert.Equal(100 * 32, liveAtEachStep.Count);
        // The first steps create the optimizers' state; from then on nothing may accumulate.
        Assert.Single(liveAtEachStep.Skip(32).Distinct());
        Assert.Equal(before, Live());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void Nets_stepped_on_several_threads_end_where_one_thread_ends_them_bit_for_bit(int workers)
    {
        var settings = new TorchMomentum.Training.ExperimentSettings { Epochs = 2, Contestants = "adam,sgd-effective,rmsprop,nesterov,handwritten,momentum,sgd" };
        List<double[]> Losses(int threads)
        {
            using var run = new TorchMomentum.Training.ChapterRun(settings, TorchSharp.torch.CPU);
            return run.Train(threads).Select(s => s.Losses).ToList();
        }
        var alone = Losses(1);
        var shared = Losses(workers);
        Assert.Equal(alone.Count, shared.Count);
        for (int step = 0; step < alone.Count; step++) Assert.Equal(alone[step], shared[step]);
    }

    [Fact]
    public void The_full_data_loss_in_chunks_is_the_loss_of_one_forward()
    {
        // 100,000 samples x hidden 200 passes 2^24 activations: two chunks of rows, summed in float64.
        using var run = new ChapterRun(new ExperimentSettings { Samples = 100_000, Hidden = 200, Epochs = 1, BatchSize = 10_000, Contestants = "momentum,ema" }, CPU);
        foreach (var _ in run.Train()) { }
        var chunked = run.FullDataLosses();
        using var noGrad = no_grad();
        var (x, y) = run.Data;
        double whole = (run.NetOf("momentum")!.forward(x) - y).to(ScalarType.Float64).pow(2).mean().item<double>();
        Assert.InRange(Math.Abs(chunked[0] - whole), 0, 1e-6 * whole);
        Assert.NotEqual(chunked[0], chunked[1]); // ema is judged at its average, not at the net's weights
    }
}
