using System.Diagnostics;
using System.Text.Json;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Benchmarks;

/// <summary>
/// `-- chapter`: the one-net chapter loop's rate (figure a's workload), and what a step costs in tensors and
/// managed bytes, for the one net and for `train`'s three, as one line of JSON. scripts/bench_train.py runs it
/// interleaved with scripts/bench_chapter.py, the same workload in PyTorch.
/// </summary>
public static class ChapterLoopRate
{
    /// <summary>Times <paramref name="repeats"/> chapter runs (after two to warm up) and prints the median rate.</summary>
    public static int Run(int repeats)
    {
        set_num_threads(BenchmarkSettings.ChapterThreads);
        var settings = new ExperimentSettings();
        using var loop = new OneNetLoop(settings);
        Drain(loop.Run(2 * settings.Epochs));
        var rates = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            int steps = Drain(loop.Run(settings.Epochs));
            rates.Add(steps / clock.Elapsed.TotalSeconds);
        }
        var (oneNetTensors, oneNetBytes) = PerStep(() => loop.Run(settings.Epochs));
        using var run = new ChapterRun(settings with { Epochs = 4 * settings.Epochs }, CPU);
        Drain(run.Train().Take(2 * settings.Epochs * settings.StepsPerEpoch));
        var (threeNetTensors, threeNetBytes) = PerStep(() => run.Train().Take(settings.Epochs * settings.StepsPerEpoch));
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            steps_per_second = rates.Order().ElementAt(rates.Count / 2),
            autograd_floor_us = AutogradFloorMicroseconds(settings, nets: 1),
            train_autograd_floor_us = AutogradFloorMicroseconds(settings, nets: 3),
            runs = repeats,
            threads = get_num_threads(),
            tensors_per_step = oneNetTensors,
            managed_bytes_per_step = oneNetBytes,
            train_tensors_per_step = threeNetTensors,
            train_managed_bytes_per_step = threeNetBytes,
        }));
        return 0;
    }

    /// <summary>
    /// Tensors TorchSharp created (one per tensor an operation returns, views included) and bytes the managed
    /// heap allocated, per step, over one pass of <paramref name="steps"/>.
    /// </summary>
    private static (double Tensors, double Bytes) PerStep<T>(Func<IEnumerable<T>> steps)
    {
        var statistics = TorchSharp.DisposeScopeManager.Statistics.TensorStatistics;
        long tensorsBefore = statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount;
        long bytesBefore = GC.GetAllocatedBytesForCurrentThread();
        int count = Drain(steps());
        long bytes = GC.GetAllocatedBytesForCurrentThread() - bytesBefore;
        long tensors = statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount - tensorsBefore;
        return ((double)tensors / count, (double)bytes / count);
    }

    /// <summary>
    /// What libtorch itself spends on a step of <paramref name="nets"/> chapter nets, before any optimizer: each
    /// net's forward and MSE loss on one batch, and one backward over all the losses (as the training loop does).
    /// No loop can take a step in less; PyTorch pays the same per operation.
    /// </summary>
    private static double AutogradFloorMicroseconds(ExperimentSettings settings, int nets)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TorchMomentum.Data.ChapterData.Generate(settings.Samples, CPU, settings.DType);
        using var batchX = x[..settings.BatchSize];
        using var batchY = y[..settings.BatchSize];
        var models = Enumerable.Range(0, nets).Select(_ => TorchMomentum.Model.Net.Build(settings.Hidden, settings.DType, CPU)).ToArray();
        const int steps = 3000;
        var clock = new Stopwatch();
        for (int step = 0; step < 2 * steps; step++)
        {
            if (step == steps) clock.Start(); // the first half warms up
            using var stepScope = NewDisposeScope();
            autograd.backward(models.Select(net => nn.functional.mse_loss(net.forward(batchX), batchY)).ToArray());
        }
        foreach (var net in models) net.Dispose();
        return clock.Elapsed.TotalMicroseconds / steps;
    }

    private static int Drain<T>(IEnumerable<T> steps)
    {
        int count = 0;
        foreach (var _ in steps) count++;
        return count;
    }
}
