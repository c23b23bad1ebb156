using BenchmarkDotNet.Attributes;
using TorchMomentum.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Benchmarks;

/// <summary>The parameter sets the family's steps are timed on.</summary>
public enum FamilyWorkload
{
    /// <summary>The chapter's net: 4 tensors, 61 numbers.</summary>
    ChapterNet,
    /// <summary>A 1000 x 1000 layer and its bias: 2 tensors, 1,001,000 numbers.</summary>
    Million,
}

/// <summary>
/// One optimizer step alone (gradients in place) of each of momentum's family against TorchSharp's own SGD with
/// momentum 0.9, the baseline, on one thread (`-- family`): issue 38's goal is QHM, AggMo and Lion within 1.5x of it.
/// </summary>
public class FamilyStepBenchmarks
{
    /// <summary>Each contestant's optimizer over a parameter set, at the race's defaults.</summary>
    public static readonly Dictionary<string, Func<Parameter[], optim.Optimizer>> Optimizers = new()
    {
        ["TorchSharp SGD"] = p => optim.SGD(p, 0.01, 0.9),
        ["Qhm"] = p => new Qhm(p, 0.05, beta: 0.9, nu: 0.7),
        ["AggMo"] = p => new AggMo(p, 0.01),
        ["Lion"] = p => new Lion(p, 0.001),
        ["AccSgd"] = p => new AccSgd(p, 0.01),
        ["ScheduleFreeSgd"] = p => new ScheduleFreeSgd(p, 0.1),
    };

    [Params(FamilyWorkload.ChapterNet, FamilyWorkload.Million)]
    public FamilyWorkload Workload { get; set; }

    [ParamsSource(nameof(Names))]
    public string Optimizer { get; set; } = "";

    public static IEnumerable<string> Names => Optimizers.Keys;

    private Parameter[] parameters = null!;
    private optim.Optimizer optimizer = null!;

    /// <summary>A workload's parameter shapes.</summary>
    public static long[][] Shapes(FamilyWorkload workload) => workload == FamilyWorkload.ChapterNet ? [[20, 1], [20], [1, 20], [1]] : [[1000, 1000], [1000]];

    /// <summary>Parameters of these shapes, with gradients.</summary>
    public static Parameter[] Parameters(long[][] shapes)
    {
        manual_seed(0);
        return shapes.Select(s =>
        {
            var p = new Parameter(randn(s));
            p.grad = randn(s) * 1e-3;
            return p;
        }).ToArray();
    }

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(1);
        parameters = Parameters(Shapes(Workload));
        optimizer = Optimizers[Optimizer](parameters);
        optimizer.step(); // the state exists from here on, as in a run
    }

    [Benchmark]
    public void Step() => optimizer.step();

    [GlobalCleanup]
    public void Cleanup()
    {
        optimizer.Dispose();
        foreach (var p in parameters) p.Dispose();
    }
}
