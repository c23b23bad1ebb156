using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Spectre.Console;

namespace TorchMomentum.Benchmarks;

/// <summary>
/// `-- family`: each of momentum's family's step time against TorchSharp's SGD with momentum, measured in the same run
/// (BenchmarkDotNet, one thread, at the chapter's size and at a million parameters), and each one's resident memory
/// and live tensors over 100,000 steps on the chapter's net.
/// </summary>
public static class FamilyRate
{
    /// <summary>Runs both and prints the table; exit code 0 when every goal is met, 1 otherwise.</summary>
    public static int Run()
    {
        var config = ManualConfig.CreateMinimumViable()
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(5).WithIterationCount(15))
            .WithOptions(ConfigOptions.DisableLogFile);
        var summary = BenchmarkRunner.Run<FamilyStepBenchmarks>(config);
        double Median(string optimizer, FamilyWorkload workload) => summary.Reports.Single(r =>
            (string)r.BenchmarkCase.Parameters["Optimizer"] == optimizer && (FamilyWorkload)r.BenchmarkCase.Parameters["Workload"] == workload)
            .ResultStatistics!.Median;

        var table = new Table().Title("Momentum's family: one step against TorchSharp's SGD with momentum (1 thread), and memory over 100,000 steps")
            .AddColumns("optimizer", "workload", "step", "TorchSharp SGD", "ratio", "goal", "met", "RSS growth 20k-100k steps", "live tensors 20k / 100k");
        bool allMet = true;
        foreach (var name in FamilyStepBenchmarks.Names.Skip(1))
        {
            var memory = Memory(name);
            foreach (var workload in Enum.GetValues<FamilyWorkload>())
            {
                double ours = Median(name, workload), sgd = Median("TorchSharp SGD", workload);
                bool goal = name is "Qhm" or "AggMo" or "Lion";
                bool met = ours <= 1.5 * sgd;
                if (goal) allMet &= met;
                table.AddRow(name, workload.ToString(), $"{ours / 1e3:N1} us", $"{sgd / 1e3:N1} us", $"{ours / sgd:F2}x", goal ? "<= 1.5x" : "-",
                    goal ? (met ? "[green]yes[/]" : "[red]no[/]") : "-",
                    workload == FamilyWorkload.ChapterNet ? $"{(memory.Rss100k - memory.Rss20k) / 1048576.0:+0.0;-0.0} MB" : "",
                    workload == FamilyWorkload.ChapterNet ? $"{memory.Live20k} / {memory.Live100k}" : "");
            }
        }
        AnsiConsole.Write(table);
        return allMet ? 0 : 1;
    }

    private static (long Rss20k, long Rss100k, long Live20k, long Live100k) Memory(string name)
    {
        var parameters = FamilyStepBenchmarks.Parameters(FamilyWorkload.ChapterNet);
        using var optimizer = FamilyStepBenchmarks.Optimizers[name](parameters);
        long rss20k = 0, live20k = 0;
        for (int step = 1; step <= 100_000; step++)
        {
            using (var scope = TorchSharp.torch.NewDisposeScope()) optimizer.step();
            if (step == 20_000) (rss20k, live20k) = (MemoryProbe.Rss(), MemoryProbe.LiveTensors());
        }
        var result = (rss20k, MemoryProbe.Rss(), live20k, MemoryProbe.LiveTensors());
        foreach (var p in parameters) p.Dispose();
        return result;
    }
}
