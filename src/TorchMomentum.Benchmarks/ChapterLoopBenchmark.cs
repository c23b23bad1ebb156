using BenchmarkDotNet.Attributes;
using TorchMomentum.Data;
using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Benchmarks;

/// <summary>
/// Figure a: the chapter's workload (1000 samples, batch 32, 12 epochs = 384 steps) through the same
/// training loop `train` uses, with one net and the momentum optimizer, on one libtorch thread.
/// </summary>
public class ChapterLoopBenchmark
{
    /// <summary>Steps in one run.</summary>
    public static readonly int Steps = new ExperimentSettings().Epochs * new ExperimentSettings().StepsPerEpoch;

    private readonly ExperimentSettings settings = new();
    private Tensor x = null!, y = null!;
    private Net net = null!;
    private MomentumSgd optimizer = null!;

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(BenchmarkSettings.ChapterThreads);
        manual_seed(settings.Seed);
        (x, y) = ChapterData.Generate(settings.Samples, CPU, settings.DType);
        net = Net.Build(settings.Hidden, settings.DType, CPU);
        optimizer = new MomentumSgd(net.parameters(), settings.LearningRate, settings.Momentum);
    }

    [Benchmark(Description = "chapter run, 384 steps")]
    public void ChapterRun() => LockstepTraining.Run(x, y, settings, [new("momentum", net, optimizer)], (_, _, _) => { });

    [GlobalCleanup]
    public void Cleanup()
    {
        optimizer.Dispose();
        net.Dispose();
        x.Dispose();
        y.Dispose();
    }
}
