using System.ComponentModel;
using System.Diagnostics;
using System.Text.RegularExpressions;
using TorchMomentum.Cli.CommandLine;
using TorchMomentum.Shared;

namespace TorchMomentum.Tests;

/// <summary>
/// The sweep sharded on a real Slurm, as docs/sweep-cluster.md runs it: <c>docs/slurm/submit.sh --wait</c> queues
/// docs/slurm/sweep.sbatch as an array of 4 tasks, each running the built CLI's <c>sweep --shard auto</c>, and
/// docs/slurm/merge.sbatch after them; the merged sweep.csv is byte for byte the one-process sweep's. Needs sbatch
/// and a Slurm with an idle node: <c>scripts/slurm-local.sh start</c> (as root) makes one on this machine, as CI's
/// second part does; without one the test skips. The jobs read and write a temporary folder, so on a cluster of
/// several nodes point TMPDIR at a file system they all see.
/// </summary>
[Trait("Category", Trait)]
public sealed class SlurmSweepTests : IDisposable
{
    public const string Trait = "Slurm";
    private const int Shards = 4;
    private static readonly string[] Grid =
        ["--lr-count", "3", "--momentum-count", "2", "--seeds", "1,2", "--epochs", "2", "--samples", "64", "--hidden", "4"];
    private static readonly string[] Outputs = ["sweep.csv", "epoch-losses.csv", "summary.json", "sweep.png", "effective-lr.png"];
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);
    private static readonly Lazy<string?> missing = new(MissingSlurm);
    private readonly TemporaryFolder temporary = new();

    public void Dispose() => temporary.Dispose();

    /// <summary>Why no Slurm can run the test here, or null when sbatch is there and sinfo shows an idle node.</summary>
    private static string? MissingSlurm()
    {
        const string start = "as root, scripts/slurm-local.sh start runs one on this machine";
        var sbatch = Run("sbatch", ["--version"], null, null, TimeSpan.FromSeconds(30));
        if (sbatch is null) return $"needs Slurm's sbatch on PATH; {start}";
        // A controller that is down costs sinfo about 10 s of retries before it says so.
        var sinfo = Run("sinfo", ["-h", "-o", "%t"], null, null, TimeSpan.FromSeconds(60));
        if (sinfo is null) return $"needs Slurm's sinfo on PATH; {start}";
        var (exit, output, error) = sinfo.Value;
        if (exit != 0) return $"needs a running Slurm, and sinfo does not answer ({error.Trim().Split('\n')[^1]}); {start}";
        // idle, or mix (some CPUs free); a suffix (idle*, idle~, idle#) is a node not responding, powered off or booting.
        string[] states = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return states.Any(s => s is "idle" or "mix") ? null : $"needs an idle Slurm node, and sinfo shows none (states: {string.Join(", ", states)}); {start}";
    }

    /// <summary>
    /// Runs <paramref name="file"/> to its end or for <paramref name="timeout"/> (then kills it), returning its exit
    /// code and outputs, or null when it cannot be started (not on PATH).
    /// </summary>
    private static (int Exit, string Output, string Error)? Run(string file, IEnumerable<string> args, string? folder,
        IDictionary<string, string>? environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder ?? "" };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        Process process;
        try { process = Process.Start(start)!; }
        catch (Win32Exception) { return null; }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return (-1, output.Result, $"{error.Result}\n(killed after {timeout.TotalSeconds:0} s)");
            }
            process.WaitForExit();
            return (process.ExitCode, output.Result, error.Result);
        }
    }

    /// <summary>A small batch-size study: two batch sizes (the second the full data), two targets, 30 steps, one study of two tuning seeds and two held out.</summary>
    private static readonly string[] Study =
        ["--lr-count", "2", "--tune-seeds", "1,2", "--eval-seeds", "3,4", "--studies", "1", "--batch-sizes", "4,64", "--excess", "0.08,0.05", "--steps", "30", "--samples", "64", "--hidden", "4"];

    [Theory]
    [InlineData("sweep")]
    [InlineData("scaling")]
    public void A_study_sharded_over_a_slurm_job_array_and_merged_writes_the_csv_of_one_process(string study)
    {
        string[] grid = study == "sweep" ? Grid : Study;
        Assert.SkipWhen(missing.Value is not null, missing.Value ?? "");
        string dll = CliRunner.Dll;
        // sweep.sbatch splits TORCHMOMENTUM at spaces.
        Assert.DoesNotMatch(@"\s", dll);
        string sharded = temporary["sharded"];
        string submit = Path.Combine(PythonScripts.RepositoryRoot(), "docs", "slurm", "submit.sh");
        var environment = new Dictionary<string, string>
        {
            ["TORCHMOMENTUM"] = $"dotnet {dll}",
            ["SHARDS"] = $"{Shards}",
            // Minutes: a job that hangs is ended by Slurm too, not only waited for here.
            ["SBATCH_TIMELIMIT"] = $"{Patience.TotalMinutes:0}",
            ["STUDY"] = study,
        };

        var run = Run("bash", [submit, "--wait", sharded, .. grid], temporary.Path, environment, Patience);
        Assert.NotNull(run);
        var (exit, output, error) = run.Value;
        if (exit != 0)
        {
            // Not left queued or running when the wait was cut short.
            var array = Regex.Match(output, @"sweep: job array (\d+)");
            if (array.Success) Run("scancel", [array.Groups[1].Value], null, null, TimeSpan.FromSeconds(30));
        }
        Assert.True(exit == 0, $"submit.sh --wait exited {exit}\n{output}\n{error}\n{JobLogs()}");

        for (int i = 0; i < Shards; i++)
            Assert.True(File.Exists(Path.Combine(sharded, $"sweep-shard-{i}-of-{Shards}.bin")), $"no shard {i} of {Shards}\n{JobLogs()}");
        // A study's equal menus make no map: its tables, summary and the study's files.
        foreach (string name in study == "sweep" ? Outputs : [.. Outputs[..3], "scaling.csv", "scaling.png", "speedup.png", "critical-batch.png"])
            Assert.True(File.Exists(Path.Combine(sharded, name)), $"the merge wrote no {name}\n{JobLogs()}");

        string one = temporary["one"];
        var (oneExit, oneOutput, oneError) = CliRunner.Run([study, .. grid, "--out", one]);
        Assert.True(oneExit == ExitCodes.Ok, $"the one-process {study} exited {oneExit}\n{oneOutput}\n{oneError}");
        foreach (string name in study == "sweep" ? ["sweep.csv"] : new[] { "sweep.csv", "scaling.csv" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(one, name)), File.ReadAllBytes(Path.Combine(sharded, name)));
    }

    /// <summary>What the jobs wrote, for a failure's message: their logs land in the folder submit.sh ran in.</summary>
    private string JobLogs() => string.Join("\n", Directory.GetFiles(temporary.Path, "*.out").Order(StringComparer.Ordinal)
        .Select(log => $"== {Path.GetFileName(log)}\n{File.ReadAllText(log)}"));
}
