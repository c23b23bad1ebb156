using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Spectre.Console;
using TorchMomentum.Benchmarks;
using static TorchSharp.torch;

// `-- explore`: the explore server's latency and load run instead; `-- chapter`: the chapter loop's rate, as JSON;
// `-- fused`: one core's FMA peak and the fused sweep kernel's rate, as JSON; `-- soak`: the explore server's RSS over
// 10,000 mixed requests; `-- family`: momentum's family's step against TorchSharp's SGD, and its memory over 100,000 steps.
if (args is ["explore"]) return await ExploreLoad.RunAsync();
if (args is ["soak"]) return await ExploreSoak.RunAsync();
if (args is ["fused"]) return FusedKernelRate.Run();
if (args is ["chapter"]) return ChapterLoopRate.Run(repeats: 15);
if (args is ["family"]) return FamilyRate.Run();

// Every figure of the performance issue, each next to its anchor measured in this same run.
int defaultThreads = get_num_threads();
BenchmarkSettings.DefaultThreads = defaultThreads;
// In process: TorchSharp's native glue is patched in this project's output, not in a generated copy.
var config = ManualConfig.CreateMinimumViable()
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(5).WithIterationCount(15))
    .WithOptions(ConfigOptions.DisableLogFile);

var chapter = BenchmarkRunner.Run<ChapterLoopBenchmark>(config);
var steps = BenchmarkRunner.Run<OptimizerStepBenchmarks>(config);
var bandwidth = BenchmarkRunner.Run<BandwidthBenchmarks>(config);
double? pytorch = PyTorchAnchor.StepsPerSecond(BenchmarkSettings.ChapterThreads, out string? noPyTorch);
var memory = MemoryProbe.Run();

double ourStepsPerSecond = ChapterLoopBenchmark.Steps / (Median(chapter, nameof(ChapterLoopBenchmark.ChapterRun)) / 1e9);
var table = new Table().Title($"TorchMomentum performance: {Environment.ProcessorCount} cores, libtorch {__version__}")
    .AddColumns("figure", "ours", "anchor", "ratio", "goal", "met");
string Met(bool ok) => ok ? "[green]yes[/]" : "[red]no[/]";

table.AddRow($"a. chapter loop, {BenchmarkSettings.ChapterThreads} thread", $"{ourStepsPerSecond:N0} steps/s",
    pytorch is double p ? $"PyTorch {p:N0} steps/s" : Markup.Escape($"PyTorch: {noPyTorch}"),
    pytorch is double q ? $"{ourStepsPerSecond / q:F2}x" : "-", ">= 4x", pytorch is double r ? Met(ourStepsPerSecond >= 4 * r) : "-");
foreach (var workload in Enum.GetValues<Workload>())
{
    double ours = Median(steps, nameof(OptimizerStepBenchmarks.Ours), workload) / 1e3;
    double theirs = Median(steps, nameof(OptimizerStepBenchmarks.BuiltIn), workload) / 1e3;
    bool goal = workload == Workload.Mlp100Tensors;
    table.AddRow($"b. optimizer step, {workload}, {defaultThreads} threads", $"{ours:N1} us", $"TorchSharp SGD {theirs:N1} us",
        $"{ours / theirs:F3}x", goal ? "<= 0.3x" : "-", goal ? Met(ours <= 0.3 * theirs) : "-");
}
double stepSeconds = Median(bandwidth, nameof(BandwidthBenchmarks.Step)) / 1e9;
double copySeconds = Median(bandwidth, nameof(BandwidthBenchmarks.Copy)) / 1e9;
double ourGbs = BandwidthBenchmarks.StepBytes / stepSeconds / 1e9, copyGbs = BandwidthBenchmarks.CopyBytes / copySeconds / 1e9;
table.AddRow($"c. bandwidth, 64M float32 step", $"{ourGbs:F1} GB/s", $"copy {copyGbs:F1} GB/s", $"{100 * ourGbs / copyGbs:F0}%", ">= 70%", Met(ourGbs >= 0.7 * copyGbs));
double Mb(long bytes) => bytes / 1048576.0;
var (at1000, at20000, at100000) = (memory[0], memory[1], memory[2]);
double growthMb = Mb(at100000.Rss - at1000.Rss);
double warmGrowthMb = Mb(at100000.Rss - at20000.Rss);
table.AddRow("d. RSS, chapter loop", $"{Mb(at100000.Rss):F1} MB after 100,000 steps", $"{Mb(at1000.Rss):F1} MB after 1,000", $"{growthMb:+0.0;-0.0} MB",
    "-", "-");
table.AddRow("d'. same, after warm-up", $"{Mb(at100000.Rss):F1} MB after 100,000 steps", $"{Mb(at20000.Rss):F1} MB after 20,000", $"{warmGrowthMb:+0.0;-0.0} MB",
    "<= 1 MB growth", Met(warmGrowthMb <= 1));
table.AddRow("d''. live TorchSharp tensors", $"{at100000.LiveTensors} after 100,000 steps", $"{at1000.LiveTensors} after 1,000", $"{at100000.LiveTensors - at1000.LiveTensors:+0;-0;0}",
    "0", Met(at100000.LiveTensors == at1000.LiveTensors));
AnsiConsole.Write(table);
AnsiConsole.MarkupLine(Markup.Escape(
    "c counts the bytes a step must move (read parameter, gradient and buffer; write parameter and buffer) and a copy's read plus write; b and c run on libtorch's default threads, a on one thread in both C# and PyTorch. Memory-bound figures (b on 64M, c) move with the shared machine's memory traffic from minute to minute."));
return 0;

static double Median(Summary summary, string method, Workload? workload = null) => summary.Reports
    .Single(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method
        && (workload is null || Equals(r.BenchmarkCase.Parameters["Workload"], workload)))
    .ResultStatistics!.Median;
