using BenchmarkDotNet.Attributes;
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

    private OneNetLoop loop = null!;

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(BenchmarkSettings.ChapterThreads);
        loop = new OneNetLoop(new ExperimentSettings());
    }

    [Benchmark(Description = "chapter run, 384 steps")]
    public void ChapterRun()
    {
        foreach (var _ in loop.Run(new ExperimentSettings().Epochs)) { }
    }

    [GlobalCleanup]
    public void Cleanup() => loop.Dispose();
}
