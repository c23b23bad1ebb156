using TorchMomentum.Cli.CommandLine;

namespace TorchMomentum.Tests;

/// <summary>
/// What a kill can leave in a checkpointed run folder, planted deterministically (random kills land in a checkpoint
/// write only now and then: a write takes about a millisecond; <see cref="ResumeAfterKillTests"/> kills at random),
/// and resume's refusals.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ResumeTests : IDisposable
{
    private readonly TemporaryFolder temporary = new();

    public void Dispose() => temporary.Dispose();

    [Fact]
    public void A_half_written_row_and_checkpoint_left_by_a_kill_are_ignored()
    {
        string reference = temporary["reference"], folder = temporary["killed"];
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--epochs", "4", "--out", reference).Exit);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--epochs", "4", "--checkpoint-every", "2", "--out", folder).Exit);
        // What SIGKILL during the next row and the next checkpoint write would leave behind.
        File.AppendAllText(Path.Combine(folder, "losses.csv"), "128,4,0.12");
        string leftover = Path.Combine(folder, "checkpoint.bin.5f0c6a1e2b3d4c5e6f708192a3b4c5d6.tmp");
        File.WriteAllBytes(leftover, [1, 2, 3]);

        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--resume", folder).Exit);
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "losses.csv")), File.ReadAllBytes(Path.Combine(folder, "losses.csv")));
        Assert.False(File.Exists(leftover), "the temporary file a killed checkpoint write left is still there");
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("damaged")]
    [InlineData("missing")]
    public void A_bad_or_missing_checkpoint_is_refused_with_one_line(string damage)
    {
        string folder = temporary["run"];
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--epochs", "2", "--checkpoint-every", "1", "--out", folder).Exit);
        string checkpoint = Path.Combine(folder, "checkpoint.bin");
        byte[] bytes = File.ReadAllBytes(checkpoint);
        if (damage == "truncated") File.WriteAllBytes(checkpoint, bytes[..(bytes.Length / 2)]);
        if (damage == "damaged")
        {
            bytes[bytes.Length / 2] ^= 0x40;
            File.WriteAllBytes(checkpoint, bytes);
        }
        if (damage == "missing") File.Delete(checkpoint);

        var (exit, _, error) = CliRunner.Run("train", "--resume", folder);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains(damage == "missing" ? "needs a run folder with a checkpoint.bin" : "cannot be loaded", error);
    }

    [Fact]
    public void Resume_refuses_settings_of_its_own()
    {
        var (exit, _, error) = CliRunner.Run("train", "--resume", temporary["x"], "--lr", "0.1");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--lr cannot be given with it", error);
    }
}
