using System.Diagnostics;
using TorchMomentum.Cli.CommandLine;

namespace TorchMomentum.Tests;

/// <summary>
/// A forced command killed at any moment of setting the earlier results aside or publishing its own (SIGKILL, as the
/// OOM killer or a power cut ends it) leaves the earlier results intact or wholly replaced: the next run puts them
/// back, refuses to write without --force, and deletes nothing of theirs. The kill lands just before each change
/// RunFolder makes, in turn (its TORCHMOMENTUM_KILL_AT_CHANGE seam), until the command gets through untouched.
/// </summary>
[Trait("Category", "Slow")]
[Collection(ChildProcessesOnly.KilledForces)]
public sealed class KilledForceTests : IDisposable
{
    private readonly TemporaryFolder temporary = new();

    public void Dispose() => temporary.Dispose();

    private const string Small = "--samples 64 --hidden 4";

    [Theory]
    [InlineData("train --batch-size 16", "--epochs 1", "--epochs 2")]
    [InlineData("sweep --lr-count 2 --momentum-count 2 --seeds 1", "--epochs 1", "--epochs 2")]
    [InlineData("scaling --lr-count 2 --tune-seeds 1 --eval-seeds 2 --studies 1 --batch-sizes 16,64", "--steps 10", "--steps 20")]
    [InlineData("sweep merge", "", "")]
    public void No_kill_of_a_forced_command_loses_an_earlier_result(string command, string earlierOptions, string newOptions)
    {
        string pristine = temporary["pristine"];
        string[] Args(string options) => [.. command.Split(' '), .. $"{Small} {options}".Split(' ', StringSplitOptions.RemoveEmptyEntries), "--out", pristine];
        string[] forced;
        if (command == "sweep merge")
        {
            // Two shards of a small sweep, merged once: the earlier results; merging again with --force replaces them.
            foreach (string shard in new[] { "0/2", "1/2" })
                Assert.Equal(ExitCodes.Ok, CliRunner.RunChild(["sweep", "--lr-count", "2", "--momentum-count", "2", "--seeds", "1", "--epochs", "1", .. Small.Split(' '), "--shard", shard, "--out", pristine]).Exit);
            Assert.Equal(ExitCodes.Ok, CliRunner.RunChild("sweep", "merge", pristine).Exit);
            forced = ["sweep", "merge", "FOLDER", "--force"];
        }
        else
        {
            var (exit, _, error) = CliRunner.RunChild(Args(earlierOptions));
            Assert.True(exit == ExitCodes.Ok, error);
            forced = [.. Args(newOptions)[..^1], "FOLDER", "--force"];
        }
        File.WriteAllText(Path.Combine(pristine, "notes.txt"), "the user's own");
        var earlier = Contents(pristine);

        // What a forced run that nothing stops leaves: the names of its results.
        string whole = Copy(pristine, "whole");
        var completed = Child(forced, whole, killAt: 0);
        Assert.True(completed.ExitCode == ExitCodes.Ok, completed.Error);
        var replaced = Contents(whole);
        Assert.Equal(earlier["notes.txt"], replaced["notes.txt"]);

        // Two kills at a time (the machine's two cores); Break stops starting any past the first run that got through.
        int kills = 0;
        var outcome = Parallel.For(1, 100, new ParallelOptions { MaxDegreeOfParallelism = 2 }, (at, loop) =>
        {
            string folder = Copy(pristine, $"kill-{at}");
            var run = Child(forced, folder, killAt: at);
            if (run.ExitCode != 137)
            {
                // Past the command's last change: it finished as if nothing had been set.
                Assert.True(run.ExitCode == ExitCodes.Ok, run.Error);
                Assert.Equal(replaced.Keys.Order(), Contents(folder).Keys.Order());
                loop.Break();
                return;
            }
            Interlocked.Increment(ref kills);
            // The next run without --force puts the earlier results back (or finds the new ones whole) and refuses to write.
            var (again, _, refusal) = CliRunner.RunChild([.. forced.Where(a => a != "--force").Select(a => a == "FOLDER" ? folder : a)]);
            Assert.True(again == ExitCodes.BadInput, $"killed before change {at}: the next run without --force exited {again}: {refusal}");
            var now = Contents(folder);
            bool intact = now.Count == earlier.Count && earlier.All(e => now.TryGetValue(e.Key, out var bytes) && bytes == e.Value);
            bool whollyReplaced = now.Keys.Order().SequenceEqual(replaced.Keys.Order());
            Assert.True(intact || whollyReplaced,
                $"killed before change {at}: the folder holds {string.Join(", ", now.Keys.Order())}; earlier {string.Join(", ", earlier.Keys.Order())}; replaced {string.Join(", ", replaced.Keys.Order())}");
            Assert.Equal(earlier["notes.txt"], now["notes.txt"]);
        });
        Assert.NotNull(outcome.LowestBreakIteration); // some run made fewer than 100 changes and got through
        Assert.Equal(outcome.LowestBreakIteration - 1, kills); // every change before it was a kill, and each was checked
        Assert.InRange(kills, 6, 99); // set-aside and publish each made several changes
    }

    /// <summary>Every file of a folder but its lock file, by name, with its bytes (as text, to compare).</summary>
    private static Dictionary<string, string> Contents(string folder) =>
        Directory.GetFiles(folder).Where(f => Path.GetFileName(f) != Cli.Output.RunFolder.LockFileName)
            .ToDictionary(f => Path.GetFileName(f), f => Convert.ToBase64String(File.ReadAllBytes(f)));

    private string Copy(string from, string name)
    {
        string to = temporary[name];
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        return to;
    }

    private static (int ExitCode, string Error) Child(string[] args, string folder, int killAt)
    {
        var start = CliRunner.Process(args.Select(a => a == "FOLDER" ? folder : a));
        if (killAt > 0) start.Environment["TORCHMOMENTUM_KILL_AT_CHANGE"] = killAt.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "the command did not end");
        return (process.ExitCode, error.Result);
    }
}
