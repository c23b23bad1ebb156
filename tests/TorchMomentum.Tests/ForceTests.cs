using System.Diagnostics;
using Spectre.Console;
using TorchMomentum.Cli.CommandLine;
using TorchMomentum.Cli.Output;

namespace TorchMomentum.Tests;

/// <summary>
/// --force replaces a command's earlier results only with complete new ones: stopped, failed or killed, the new run
/// leaves the earlier results as they were, and the user's own files are never touched.
/// </summary>
public sealed class ForceTests : IDisposable
{
    private static readonly string[] Results = ["a.csv", "b.png"];
    private readonly TemporaryFolder temporary = new();

    public void Dispose() => temporary.Dispose();

    /// <summary>A folder holding an earlier run's a.csv and b.png and the user's notes.txt.</summary>
    private string Earlier()
    {
        string folder = temporary["run"];
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "a.csv"), "earlier a");
        File.WriteAllText(Path.Combine(folder, "b.png"), "earlier b");
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");
        return folder;
    }

    private static Dictionary<string, string> Contents(string folder) =>
        Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Where(n => n != RunFolder.LockFileName)
            .ToDictionary(n => n!, n => File.Exists(Path.Combine(folder, n!)) ? File.ReadAllText(Path.Combine(folder, n!)) : "(folder)");

    [Fact]
    public void A_forced_run_that_never_publishes_leaves_the_earlier_results_as_they_were()
    {
        string folder = Earlier();
        var before = Contents(folder);
        using (var run = RunFolder.Open(folder, "test", force: true, Results, out string? error)!)
        {
            Assert.Null(error);
            Assert.True(run.ReplacesEarlier);
            File.WriteAllText(run["a.csv"], "half of a new a"); // written as it goes, like losses.csv
            File.WriteAllText(run.Staged("b.png"), "a new b");
        }
        Assert.Equal(before, Contents(folder));
    }

    [Fact]
    public void A_forced_run_that_publishes_replaces_the_earlier_results_and_keeps_the_users_files()
    {
        string folder = Earlier();
        using (var run = RunFolder.Open(folder, "test", force: true, Results, out _)!)
        {
            File.WriteAllText(run.Staged("a.csv"), "new a");
            Assert.False(File.Exists(run["a.csv"])); // staged: not a result until published
            run.Publish(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) }), "a.csv");
        }
        // b.png was the earlier run's and this one wrote none: it does not outlive the results it went with.
        Assert.Equal(new Dictionary<string, string> { ["a.csv"] = "new a", ["notes.txt"] = "mine" }, Contents(folder));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_earlier_results_a_killed_forced_run_set_aside_come_back_before_the_folder_is_judged(bool force)
    {
        string folder = Earlier();
        var before = Contents(folder);
        // What a forced run killed with SIGKILL leaves: the earlier results set aside, half of its own, a temporary file.
        string aside = Path.Combine(folder, ".torchmomentum-earlier");
        Directory.CreateDirectory(aside);
        foreach (var result in Results) File.Move(Path.Combine(folder, result), Path.Combine(aside, result));
        File.WriteAllText(Path.Combine(folder, "a.csv"), "half of a new a");
        File.WriteAllText(Path.Combine(folder, "b.png.0123.tmp"), "part");

        // The next run to open the folder, forced or not, finds them back in place first.
        using (var next = RunFolder.Open(folder, "test", force, Results, out string? error))
        {
            if (!force)
            {
                Assert.Null(next);
                Assert.Contains("already holds files", error);
            }
            else
            {
                // What a new forced run sets aside is the earlier run's results, not the killed run's half of a.csv.
                Assert.True(next!.ReplacesEarlier);
                Assert.Equal(Results.Select(r => before[r]), Results.Select(r => File.ReadAllText(Path.Combine(aside, r))));
                return; // disposed unpublished, it puts them back: the other tests hold that
            }
        }
        Assert.Equal(before, Contents(folder));
    }

    [Fact]
    public void Earlier_results_a_kill_left_half_set_aside_all_come_back_and_none_is_deleted()
    {
        string folder = Earlier();
        var before = Contents(folder);
        // A forced run killed after moving a.csv aside and before b.png: what the old set-aside lost (b.png deleted as if new).
        string aside = Path.Combine(folder, ".torchmomentum-setting-aside");
        Directory.CreateDirectory(aside);
        File.Move(Path.Combine(folder, "a.csv"), Path.Combine(aside, "a.csv"));
        using (var next = RunFolder.Open(folder, "test", force: false, Results, out string? error))
        {
            Assert.Null(next);
            Assert.Contains("already holds files", error);
        }
        Assert.Equal(before, Contents(folder));
    }

    [Trait("Category", "Slow")]
    [Fact]
    public async Task A_forced_train_stopped_by_a_signal_keeps_the_earlier_run()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "sends POSIX signals with kill");
        string folder = temporary["train"];
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--epochs", "1", "--out", folder).Exit);
        var before = Contents(folder);
        using var process = Process.Start(CliRunner.Process(["train", "--epochs", "20000", "--checkpoint-every", "5", "--force", "--out", folder]))!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        string checkpoint = Path.Combine(folder, "checkpoint.bin");
        var clock = Stopwatch.StartNew();
        while (!File.Exists(checkpoint) && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(10);
        Assert.False(process.HasExited, "the run ended before it could be stopped");
        Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "the run did not stop on SIGTERM");
        await output;
        string said = await error;
        Assert.Equal(ExitCodes.Terminated, process.ExitCode);
        Assert.Contains("keeps the earlier results --force would have replaced", said);
        Assert.Single(said.TrimEnd().Split('\n'));
        Assert.Equal(before, Contents(folder));
    }
}
