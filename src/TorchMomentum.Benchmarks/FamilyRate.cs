using System.Diagnostics;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Spectre.Console;

namespace TorchMomentum.Benchmarks;

/// <summary>
/// `-- family`: each of momentum's family's step time against TorchSharp's SGD with momentum, in the same run: by
/// BenchmarkDotNet (one thread, at the chapter's size and at a million parameters), and paired, the two stepped in
/// alternating blocks so that a shared machine's drift falls on both alike; and each one's resident memory and live
/// tensors over 100,000 steps on the chapter's net. The goal (issue 38: QHM, AggMo and Lion within 1.5x of SGD's
/// step) is judged on the paired median: BenchmarkDotNet measures one case after another, minutes apart.
/// </summary>
public static class FamilyRate
{
    private const int Rounds = 21;

    /// <summary>Runs all of it and prints the table; exit code 0 when every goal is met, 1 otherwise.</summary>
    public static int Run()
    {
        // The paired ratios first, before BenchmarkDotNet's allocations, so that both see a fresh process.
        TorchSharp.torch.set_num_threads(1);
        var paired = FamilyStepBenchmarks.Names.Skip(1).SelectMany(name => Enum.GetValues<FamilyWorkload>().Select(w => (name, w)))
            .ToDictionary(c => c, c => PairedRatios(c.name, FamilyStepBenchmarks.Shapes(c.w)));
        var config = ManualConfig.CreateMinimumViable()
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(5).WithIterationCount(15))
            .WithOptions(ConfigOptions.DisableLogFile);
        var summary = BenchmarkRunner.Run<FamilyStepBenchmarks>(config);
        double Median(string optimizer, FamilyWorkload workload) => summary.Reports.Single(r =>
            (string)r.BenchmarkCase.Parameters["Optimizer"] == optimizer && (FamilyWorkload)r.BenchmarkCase.Parameters["Workload"] == workload)
            .ResultStatistics!.Median;

        var table = new Table().Title("Momentum's family against TorchSharp's SGD with momentum, one thread").AddColumns(
            "optimizer", "workload", "BDN step", "BDN SGD", "paired ratio: median (min-max)", "goal", "met", "RSS 20k-100k steps", "live tensors 20k/100k");
        bool allMet = true;
        foreach (var name in FamilyStepBenchmarks.Names.Skip(1))
        {
            var memory = Memory(name);
            foreach (var workload in Enum.GetValues<FamilyWorkload>())
            {
                var ratios = paired[(name, workload)];
                double median = ratios[Rounds / 2];
                bool goal = name is "Qhm" or "AggMo" or "Lion", met = median <= 1.5;
                if (goal) allMet &= met;
                bool chapter = workload == FamilyWorkload.ChapterNet;
                table.AddRow(name, workload.ToString(), $"{Median(name, workload) / 1e3:N1} us", $"{Median("TorchSharp SGD", workload) / 1e3:N1} us",
                    $"{median:F2}x ({ratios[0]:F2}-{ratios[^1]:F2})", goal ? "<= 1.5x" : "-", goal ? (met ? "[green]yes[/]" : "[red]no[/]") : "-",
                    chapter ? $"{(memory.Rss100k - memory.Rss20k) / 1048576.0:+0.0;-0.0} MB" : "", chapter ? $"{memory.Live20k} / {memory.Live100k}" : "");
            }
        }
        AnsiConsole.Console.Profile.Width = Math.Max(AnsiConsole.Console.Profile.Width, 150); // one line per row, also into a file
        AnsiConsole.Write(table);

        // Where memory binds: the ratio against the size of one flat parameter, AggMo's state being 5/3 of SGD's bytes.
        var sizes = new Table().Title("Paired ratio to TorchSharp's SGD by parameter count (one flat tensor)").AddColumns("optimizer", "100,000", "1,000,000", "8,000,000");
        foreach (var name in new[] { "AggMo", "Lion" })
            sizes.AddRow([name, .. new long[] { 100_000, 1_000_000, 8_000_000 }.Select(n => PairedRatios(name, [[n]]) is var r ? $"{r[Rounds / 2]:F2}x ({r[0]:F2}-{r[^1]:F2})" : "")]);
        AnsiConsole.Write(sizes);
        return allMet ? 0 : 1;
    }

    /// <summary>
    /// The optimizer's time over SGD's for <see cref="Rounds"/> pairs of blocks, sorted: each round steps SGD then it
    /// (or it then SGD, alternately) for a block of steps, and the ratio is of the two blocks' times.
    /// </summary>
    private static double[] PairedRatios(string name, long[][] shapes)
    {
        var (ours, sgd) = (FamilyStepBenchmarks.Parameters(shapes), FamilyStepBenchmarks.Parameters(shapes));
        using var optimizer = FamilyStepBenchmarks.Optimizers[name](ours);
        using var baseline = FamilyStepBenchmarks.Optimizers["TorchSharp SGD"](sgd);
        // Blocks of about 40 million elements stepped (2,000 steps of the chapter's net).
        int steps = (int)Math.Clamp(40_000_000 / shapes.Sum(s => s.Aggregate(1L, (a, b) => a * b)), 20, 2000);
        double Block(TorchSharp.torch.optim.Optimizer o)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++)
                using (TorchSharp.torch.NewDisposeScope()) o.step();
            return clock.Elapsed.TotalSeconds;
        }
        Block(optimizer);
        Block(baseline);
        var ratios = new double[Rounds];
        for (int r = 0; r < Rounds; r++)
        {
            double a, b;
            if (r % 2 == 0) (b, a) = (Block(baseline), Block(optimizer));
            else (a, b) = (Block(optimizer), Block(baseline));
            ratios[r] = a / b;
        }
        foreach (var p in ours.Concat(sgd)) p.Dispose();
        Array.Sort(ratios);
        return ratios;
    }

    private static (long Rss20k, long Rss100k, long Live20k, long Live100k) Memory(string name)
    {
        var parameters = FamilyStepBenchmarks.Parameters(FamilyStepBenchmarks.Shapes(FamilyWorkload.ChapterNet));
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
