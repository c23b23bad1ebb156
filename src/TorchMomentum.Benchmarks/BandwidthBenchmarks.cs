using BenchmarkDotNet.Attributes;
using TorchMomentum.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Benchmarks;

/// <summary>
/// Figure c: our step on one 64M-element float32 tensor against a plain copy of a tensor that size,
/// the memory-bandwidth anchor, in the same run.
/// </summary>
public class BandwidthBenchmarks
{
    /// <summary>Elements in the tensor.</summary>
    public const long Elements = 64L * 1024 * 1024;

    /// <summary>
    /// Bytes a momentum step must move at least: read parameter, gradient and buffer, write parameter and
    /// buffer, 4 bytes each.
    /// </summary>
    public const double StepBytes = 5.0 * 4 * Elements;

    /// <summary>Bytes a copy moves: read the source, write the destination.</summary>
    public const double CopyBytes = 2.0 * 4 * Elements;

    private Tensor source = null!, destination = null!;
    private Parameter[] parameter = null!;
    private MomentumSgd optimizer = null!;

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(BenchmarkSettings.DefaultThreads);
        source = randn(Elements);
        destination = empty(Elements);
        parameter = OptimizerStepBenchmarks.Parameters(Workload.Tensor64M);
        optimizer = new MomentumSgd(parameter, 1e-3, 0.9);
        optimizer.step(); // the first step only copies the gradient into the buffer
    }

    [Benchmark(Baseline = true, Description = "copy 64M float32")]
    public void Copy() => destination.copy_(source);

    [Benchmark(Description = "MomentumSgd step, 64M float32")]
    public void Step() => optimizer.step();

    [GlobalCleanup]
    public void Cleanup()
    {
        optimizer.Dispose();
        foreach (var t in parameter) t.Dispose();
        source.Dispose();
        destination.Dispose();
    }
}
