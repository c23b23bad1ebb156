using System.Text.Json.Nodes;
using TorchMomentum.Cli.CommandLine;
using TorchMomentum.Cli.Output;
using TorchMomentum.Files;

namespace TorchMomentum.Tests;

/// <summary>What a merge refuses (damaged, edited or impossible shard files) and what a shard of one, a stop or a second merge leave.</summary>
public sealed partial class SweepCommandTests
{
    /// <summary>The small sweep cut into two shards in a fresh folder; returns the folder.</summary>
    private string TwoShards(string name)
    {
        string shards = temporary[name];
        for (int i = 0; i < 2; i++) Assert.Equal(ExitCodes.Ok, CliRunner.Run(With("--shard", $"{i}/2", "--out", shards)).Exit);
        return shards;
    }

    /// <summary>A merge of <paramref name="shards"/> is refused in one line naming <paramref name="why"/>, and writes nothing, not even its lock.</summary>
    private static void AssertMergeRefused(string shards, string why)
    {
        var (exit, _, error) = CliRunner.Run("sweep", "merge", shards);
        Assert.True(exit == ExitCodes.BadInput, error);
        Assert.Contains(why, error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.All(Directory.GetFileSystemEntries(shards), f => Assert.StartsWith("sweep-shard-", Path.GetFileName(f), StringComparison.Ordinal));
    }

    [Fact]
    public void A_bit_flipped_anywhere_in_a_shard_file_is_refused_and_nothing_is_written()
    {
        string shards = TwoShards("flipped"), file = Path.Combine(shards, "sweep-shard-1-of-2.bin");
        byte[] sound = File.ReadAllBytes(file);
        var random = new Random(27);
        // Unsealed, about one flip in ten turned a digit into another and merged (issue 27).
        for (int trial = 0; trial < 60; trial++)
        {
            byte[] damaged = (byte[])sound.Clone();
            int bit = random.Next(damaged.Length * 8);
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            File.WriteAllBytes(file, damaged);
            AssertMergeRefused(shards, "'sweep-shard-1-of-2.bin' cannot be read");
        }
        File.WriteAllBytes(file, sound);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("sweep", "merge", shards).Exit);
    }

    [Theory]
    [InlineData("cells.0.epoch_losses.0", "-0.5", "epoch losses are missing, negative or not finite")]
    [InlineData("cells.0.final_loss", "-1", "finite, non-negative final loss")]
    [InlineData("cells.0.final_loss", "1e308", null)] // a finite, positive loss is possible: sealed again, it merges
    [InlineData("cells", "null", "its cells are missing")]
    [InlineData("run.training_seconds", "1e308", "training_seconds 1E+308 is outside [0, 1e9]")]
    [InlineData("run.threads", "0", "threads 0 is outside [1, 1024]")]
    [InlineData("run.device", "\"gpu\"", "device 'gpu' is not cpu or cuda")]
    [InlineData("grid.lr_max", "1e300", "its grid is not valid")]
    [InlineData("run", "null", "it does not say how it was trained")]
    public void A_resealed_shard_file_with_an_impossible_value_is_refused_in_one_line(string field, string value, string? why)
    {
        string shards = TwoShards("edited"), file = Path.Combine(shards, "sweep-shard-0-of-2.bin");
        var json = JsonNode.Parse(SealedFile.Read(file, 1 << 30).Span)!;
        var path = field.Split('.');
        JsonNode parent = json;
        foreach (var step in path[..^1]) parent = int.TryParse(step, out int i) ? parent[i]! : parent[step]!;
        var replacement = JsonNode.Parse(value);
        if (int.TryParse(path[^1], out int index)) parent[index] = replacement;
        else parent[path[^1]] = replacement;
        SealedFile.Write(file, System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()));
        if (why is null) Assert.Equal(ExitCodes.Ok, CliRunner.Run("sweep", "merge", shards).Exit);
        else AssertMergeRefused(shards, why);
    }

    [Fact]
    public void The_same_lr_max_edited_in_every_shard_without_a_seal_is_refused()
    {
        string shards = TwoShards("unsealed");
        foreach (var file in Directory.GetFiles(shards))
        {
            var json = JsonNode.Parse(SealedFile.Read(file, 1 << 30).Span)!;
            json["grid"]!["lr_max"] = 0.6;
            File.WriteAllText(file, json.ToJsonString()); // edited by hand, as plain JSON
        }
        AssertMergeRefused(shards, "does not match its checksum");
    }

    [Fact]
    public void A_sweep_cut_into_one_shard_writes_a_shard_file_that_merges_into_the_whole_sweep()
    {
        string whole = temporary["whole"], one = temporary["one"];
        Assert.Equal(ExitCodes.Ok, CliRunner.Run(With("--out", whole)).Exit);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run(With("--shard", "0/1", "--out", one)).Exit);
        Assert.Equal(["sweep-shard-0-of-1.bin"], RunFolderFiles.Of(one));
        Assert.Equal(ExitCodes.Ok, CliRunner.Run(With("--shard", "0/1", "--out", one)).Exit); // a requeued task of an array of one
        var (merged, _, error) = CliRunner.Run("sweep", "merge", one);
        Assert.True(merged == ExitCodes.Ok, error);
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, SweepCsv.FileName)), File.ReadAllBytes(Path.Combine(one, SweepCsv.FileName)));
    }

    [Fact]
    public void A_merge_refused_for_an_earlier_merge_leaves_no_lock_file()
    {
        string shards = TwoShards("merged");
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("sweep", "merge", shards).Exit);
        File.Delete(Path.Combine(shards, RunFolder.LockFileName));
        var (exit, _, error) = CliRunner.Run("sweep", "merge", shards);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("add --force", error);
        Assert.False(File.Exists(Path.Combine(shards, RunFolder.LockFileName)));
    }

    [Fact]
    public void Shard_files_of_an_earlier_version_are_named_as_such()
    {
        string shards = temporary["old"];
        Directory.CreateDirectory(shards);
        File.WriteAllText(Path.Combine(shards, "sweep-shard-0-of-1.json"), "{}");
        AssertMergeRefused(shards, "earlier TorchMomentum");
    }

    [Fact]
    public void Seeds_given_twice_are_refused_like_any_other_option_given_twice()
    {
        var (exit, _, error) = CliRunner.Run([.. With("--out", temporary["twice"]), "--seeds", "2,3"]);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("'--seeds' expects a single argument", error);
        Assert.False(Directory.Exists(temporary["twice"]));
    }

    [Fact]
    public void An_effective_lr_that_overflows_is_refused_before_any_work()
    {
        string folder = temporary["overflow"];
        var (exit, _, error) = CliRunner.Run(With("--lr-min", "1e308", "--lr-max", "1.7e308", "--out", folder));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("--lr-max / (1 - --momentum-max), the largest effective lr, must be finite (got 1.7E+308 / (1 - 0.9) = Infinity).", error.Trim());
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void Threads_that_would_never_run_are_not_counted_against_memory()
    {
        string folder = temporary["threads"];
        // One cell is one chunk: the 499 other threads never start. They were once counted at 67 MB each, and refused.
        var (exit, _, error) = CliRunner.Run("sweep", "--lr-count", "1", "--momentum-count", "1", "--seeds", "1", "--epochs", "1", "--threads", "500", "--out", folder);
        Assert.True(exit == ExitCodes.Ok, error);
    }

    [Fact]
    public void A_shard_folder_that_cannot_be_written_is_said_without_naming_a_probe_file()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "needs /proc");
        var (exit, _, error) = CliRunner.Run(With("--shard", "0/2", "--out", "/proc/self"));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith("--out must be a folder that can be written (got '/proc/self': ", error);
        Assert.DoesNotContain("probe", error);
        Assert.DoesNotContain("..", error);
    }

    [Fact]
    public async Task A_merge_that_cannot_fit_in_memory_is_refused_before_it_writes()
    {
        string shards = TwoShards("contained");
        var start = CliRunner.Process(["sweep", "merge", shards]);
        start.Environment["DOTNET_GCHeapHardLimit"] = "0x4000000"; // a 64 MB container, as the runtime sees it
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(ExitCodes.BadInput, process.ExitCode);
        Assert.Matches(@"^sweep merge: merging 2 shards of a 12-cell sweep needs about [0-9.]+ GB of memory, more than the [0-9.]+ GB a run may take here", await error);
        Assert.Equal(["sweep-shard-0-of-2.bin", "sweep-shard-1-of-2.bin"], RunFolderFiles.Of(shards));
    }

    [Fact]
    public void Help_says_each_default_once_in_the_words_one_types()
    {
        var (exit, output, _) = CliRunner.Run("sweep", "--help");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.DoesNotContain("[default:", output);
        Assert.Contains("default 1-4)", output);
        Assert.Contains("default float32)", output);
    }
}
