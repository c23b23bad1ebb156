using System.Diagnostics;
using TorchMomentum.Cli.CommandLine;
using TorchMomentum.Cli.Output;

namespace TorchMomentum.Tests;

/// <summary>
/// Nothing lost, nothing crashes: one writer per run folder, a resume that checks what it continues, one
/// line and a clean exit code for every bad input, file system state or I/O failure.
/// </summary>
public sealed class RunSafetyTests : IDisposable
{
    private readonly TemporaryFolder temporary = new();

    public void Dispose() => temporary.Dispose();

    private static (int Exit, string Error) Finish(Process process)
    {
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, error.Result);
    }

    private static void WaitFor(string file, Process process)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(file) && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(5);
        Assert.True(File.Exists(file), $"{file} never appeared");
    }

    private static void AssertOneLine(string error) => Assert.Single(error.TrimEnd().Split('\n'));

    [Fact]
    public void A_resume_while_the_run_is_still_writing_is_refused_and_the_run_ends_intact()
    {
        string folder = temporary["busy"], reference = temporary["reference"];
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--epochs", "150", "--out", reference).Exit);
        using var first = Process.Start(CliRunner.Process(["train", "--epochs", "150", "--checkpoint-every", "3", "--out", folder]))!;
        // 150 epochs take over a second after the first checkpoint: time enough for the two tries below.
        first.BeginOutputReadLine();
        first.BeginErrorReadLine();
        WaitFor(Path.Combine(folder, "checkpoint.bin"), first);

        Assert.False(first.HasExited, "the run ended before the second writer could try");
        var (exit, _, error) = CliRunner.Run("train", "--resume", folder);
        var (forced, _, forcedError) = CliRunner.Run("train", "--epochs", "1", "--force", "--out", folder);
        first.WaitForExit();

        Assert.Equal(ExitCodes.BadInput, exit);
        AssertOneLine(error);
        Assert.Contains("in use by another torchmomentum run", error);
        Assert.Equal(ExitCodes.BadInput, forced);
        Assert.Contains("in use by another torchmomentum run", forcedError);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "losses.csv")), File.ReadAllBytes(Path.Combine(folder, "losses.csv")));
    }

    [Fact]
    public void Two_runs_started_together_on_one_folder_one_runs_the_other_is_refused()
    {
        string folder = temporary["together"], reference = temporary["reference"];
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--epochs", "30", "--out", reference).Exit);
        string[] args = ["train", "--epochs", "30", "--out", folder];
        using var a = Process.Start(CliRunner.Process(args))!;
        using var b = Process.Start(CliRunner.Process(args))!;
        var results = new[] { Finish(a), Finish(b) };

        Assert.Single(results, r => r.Exit == ExitCodes.Ok);
        var refused = Assert.Single(results, r => r.Exit == ExitCodes.BadInput);
        AssertOneLine(refused.Error);
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "losses.csv")), File.ReadAllBytes(Path.Combine(folder, "losses.csv")));
    }

    /// <summary>A finished, checkpointed run of <paramref name="seed"/>; resuming it rewrites its results from the checkpoint.</summary>
    private string CheckpointedRun(string name, int seed = 1)
    {
        string folder = temporary[name];
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--epochs", "4", "--checkpoint-every", "2", "--seed", $"{seed}", "--out", folder).Exit);
        return folder;
    }

    [Theory]
    [InlineData("crlf")]
    [InlineData("edited")]
    [InlineData("other seed")]
    public void Resume_refuses_rows_that_are_not_the_ones_its_checkpoint_continues(string change)
    {
        string folder = CheckpointedRun("run");
        string csv = Path.Combine(folder, "losses.csv");
        if (change == "crlf") File.WriteAllText(csv, File.ReadAllText(csv).Replace("\n", "\r\n"));
        if (change == "edited")
        {
            var lines = File.ReadAllLines(csv);
            lines[5] = lines[5][..^1] + (lines[5][^1] == '1' ? '2' : '1');
            File.WriteAllText(csv, string.Join('\n', lines) + "\n");
        }
        if (change == "other seed")
            File.Copy(Path.Combine(CheckpointedRun("seed2", seed: 2), "checkpoint.bin"), Path.Combine(folder, "checkpoint.bin"), overwrite: true);
        byte[] before = File.ReadAllBytes(csv);

        var (exit, _, error) = CliRunner.Run("train", "--resume", folder);
        Assert.Equal(ExitCodes.BadInput, exit);
        AssertOneLine(error);
        Assert.Contains("does not match its checkpoint", error);
        Assert.Equal(before, File.ReadAllBytes(csv));
    }

    [Fact]
    public void Resume_with_losses_csv_a_folder_is_bad_input()
    {
        string folder = CheckpointedRun("run");
        File.Delete(Path.Combine(folder, "losses.csv"));
        Directory.CreateDirectory(Path.Combine(folder, "losses.csv"));
        var (exit, _, error) = CliRunner.Run("train", "--resume", folder);
        Assert.Equal(ExitCodes.BadInput, exit);
        AssertOneLine(error);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("quadratic")]
    [InlineData("rate")]
    [InlineData("velocity")]
    public void An_empty_out_is_bad_input_for_every_command(string command)
    {
        var (exit, _, error) = CliRunner.Run(command, "--out", "");
        Assert.Equal(ExitCodes.BadInput, exit);
        AssertOneLine(error);
        Assert.Contains("--out must be a folder path (got '')", error);
    }

    [Theory]
    [InlineData("1e-320", "10")]
    [InlineData("1e-300", "1e300")]
    public void Rate_refuses_a_condition_number_no_double_can_hold_before_creating_anything(string mu, string l)
    {
        string folder = temporary["rate"];
        var (exit, _, error) = CliRunner.Run("rate", "--mu", mu, "--L", l, "--out", folder);
        Assert.Equal(ExitCodes.BadInput, exit);
        AssertOneLine(error);
        Assert.Contains("--L / --mu must be in [1, 1E+12]", error);
        Assert.False(Directory.Exists(folder));
    }

    [Theory]
    [InlineData("--samples", "100000000", "--samples must be a whole number in [1, 10000000]")]
    [InlineData("--hidden", "1000000", "--hidden must be a whole number in [1, 100000]")]
    public void Sizes_beyond_the_bounds_are_refused(string option, string value, string expected)
    {
        var (exit, _, error) = CliRunner.Run("train", option, value, "--out", temporary["big"]);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void A_run_with_more_steps_than_losses_csv_can_number_is_refused()
    {
        var (exit, _, error) = CliRunner.Run("train", "--epochs", "1000000", "--samples", "10000000", "--batch-size", "1", "--out", temporary["long"]);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--epochs x steps per epoch must be at most 2147483647 (got 1000000 x 10000000 = 10000000000000)", error);
        Assert.False(Directory.Exists(temporary["long"]));
    }

    [Fact]
    public void A_run_that_needs_more_memory_than_the_machine_has_is_refused_before_it_starts()
    {
        string folder = temporary["huge"];
        var (exit, _, error) = CliRunner.Run("train", "--hidden", "100000", "--samples", "100000", "--batch-size", "100000", "--out", folder);
        Assert.Equal(ExitCodes.BadInput, exit);
        AssertOneLine(error);
        Assert.Matches(@"--hidden 100000 need about [0-9.]+ GB of memory, more than the [0-9.]+ GB available here", error);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void Verify_refuses_epochs_that_would_run_for_hours()
    {
        var (exit, _, error) = CliRunner.Run("verify", "--epochs", "1000000");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--epochs must be a whole number in [1, 1000]", error);
    }

    [Fact]
    public void A_file_too_large_for_the_file_system_stops_with_one_line_and_the_checkpoint_resumes()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "needs bash's ulimit");
        string folder = temporary["limited"], reference = temporary["reference"];
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--epochs", "600", "--out", reference).Exit);
        // 1 MiB per file, and SIGXFSZ ignored so the write fails with EFBIG instead of killing the process.
        // W^X off: the runtime's double-mapped code pages count against the limit otherwise.
        var start = CliRunner.Process(["train", "--epochs", "600", "--checkpoint-every", "1", "--out", folder], "trap '' XFSZ; ulimit -f 1024");
        start.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        using var limited = Process.Start(start)!;
        var (exit, error) = Finish(limited);

        Assert.Equal(ExitCodes.Failed, exit);
        AssertOneLine(error);
        Assert.DoesNotContain("   at ", error);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--resume", folder).Exit);
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "losses.csv")), File.ReadAllBytes(Path.Combine(folder, "losses.csv")));
    }

    [Fact]
    public void Temporary_files_left_by_a_killed_writer_are_removed_and_no_lock_file_is_left_in_the_folder()
    {
        string folder = CheckpointedRun("run");
        File.WriteAllBytes(Path.Combine(folder, "checkpoint.bin.0123456789abcdef.tmp"), [1, 2, 3]);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--resume", folder).Exit);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
        Assert.Equal(["checkpoint.bin", "losses.csv", "losses.png", "summary.json"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
    }
}
