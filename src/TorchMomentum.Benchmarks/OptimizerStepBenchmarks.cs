using BenchmarkDotNet.Attributes;
using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Benchmarks;

/// <summary>The parameter sets figure b steps over.</summary>
public enum Workload
{
    /// <summary>The chapter's net: 4 tensors, 61 numbers.</summary>
    ChapterNet,
    /// <summary>An MLP of 50 Linear(64, 64) layers: 100 tensors, 208,000 numbers.</summary>
    Mlp100Tensors,
    /// <summary>One float32 tensor of 64M elements (256 MB).</summary>
    Tensor64M,
}

/// <summary>
/// Figure b: one optimizer step alone (gradients already in place), ours against TorchSharp's SGD, both
/// with momentum 0.9, on libtorch's default thread count.
/// </summary>
public class OptimizerStepBenchmarks
{
    [Params(Workload.ChapterNet, Workload.Mlp100Tensors, Workload.Tensor64M)]
    public Workload Workload { get; set; }

    private Parameter[] ours = null!, theirs = null!;
    private MomentumSgd ourOptimizer = null!;
    private optim.Optimizer builtIn = null!;

    /// <summary>Parameters with gradients for a workload; two independent copies.</summary>
    public static Parameter[] Parameters(Workload workload)
    {
        manual_seed(0);
        long[][] shapes = workload switch
        {
            Workload.ChapterNet => [[20, 1], [20], [1, 20], [1]],
            Workload.Mlp100Tensors => Enumerable.Range(0, 50).SelectMany(_ => new long[][] { [64, 64], [64] }).ToArray(),
            _ => [[64L * 1024 * 1024]],
        };
        return shapes.Select(s =>
        {
            var p = new Parameter(randn(s));
            p.grad = randn(s);
            return p;
        }).ToArray();
    }

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(BenchmarkSettings.DefaultThreads);
        ours = Parameters(Workload);
        theirs = Parameters(Workload);
        ourOptimizer = new MomentumSgd(ours, 1e-3, 0.9);
        builtIn = optim.SGD(theirs, 1e-3, 0.9);
    }

    [Benchmark(Baseline = true, Description = "TorchSharp SGD")]
    public void BuiltIn() => builtIn.step();

    [Benchmark(Description = "MomentumSgd")]
    public void Ours() => ourOptimizer.step();

    [GlobalCleanup]
    public void Cleanup()
    {
        ourOptimizer.Dispose();
        builtIn.Dispose();
        foreach (var p in ours.Concat(theirs)) p.Dispose();
    }
}
