using System.Diagnostics;
using TorchMomentum.Cli.CommandLine;
using TorchMomentum.Cli.Output;

namespace TorchMomentum.Tests;

/// <summary>
/// Nothing lost, nothing crashes: one writer per run folder, a resume that checks what it continues, one
/// line and a clean exit code for every bad input, file system state or I/O failure.
/// </summary>
[Trait("Category", "Slow")]
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
        Assert.Matches(@"--hidden 100000 needs about [0-9.]+ GB of memory, more than the [0-9.]+ GB a run may take here \(80% of the [0-9.]+ GB available\)", error);
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
        // 150 epochs write a losses.csv of about 330 KB, past a limit of 256 KiB per file.
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--epochs", "150", "--out", reference).Exit);
        Assert.True(new FileInfo(Path.Combine(reference, "losses.csv")).Length > 300_000, "the run writes too little to reach the limit");
        // SIGXFSZ ignored so the write fails with EFBIG instead of killing the process.
        // W^X off: the runtime's double-mapped code pages count against the limit otherwise.
        var start = CliRunner.Process(["train", "--epochs", "150", "--checkpoint-every", "1", "--out", folder], "trap '' XFSZ; ulimit -f 256");
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
    public void Temporary_files_left_by_a_killed_writer_are_removed_and_only_the_lock_file_joins_the_results()
    {
        string folder = CheckpointedRun("run");
        File.WriteAllBytes(Path.Combine(folder, "checkpoint.bin.0123456789abcdef.tmp"), [1, 2, 3]);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--resume", folder).Exit);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
        Assert.Equal(["checkpoint.bin", "fit.png", "losses.csv", "losses.png", "summary.json"], RunFolderFiles.Of(folder));
        Assert.True(File.Exists(Path.Combine(folder, RunFolder.LockFileName)));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder, RunFolder.LockFileName)));
    }

    [Fact]
    public void Two_spellings_of_one_folder_share_its_lock()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "symbolic links to folders need no privilege here");
        string real = temporary["real"], link = temporary["link"], reference = temporary["reference"];
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--epochs", "150", "--out", reference).Exit);
        Directory.CreateSymbolicLink(link, real);
        using var first = Process.Start(CliRunner.Process(["train", "--epochs", "150", "--checkpoint-every", "3", "--out", real]))!;
        first.BeginOutputReadLine();
        first.BeginErrorReadLine();
        WaitFor(Path.Combine(real, "checkpoint.bin"), first);

        Assert.False(first.HasExited, "the run ended before the second writer could try");
        // Another spelling of the path, and another temporary folder: the lock is the folder's own.
        var start = CliRunner.Process(["train", "--out", Path.Combine(link, ".", ""), "--force", "--seed", "2", "--epochs", "1"]);
        start.Environment["TMPDIR"] = temporary["other-tmp"];
        using var second = Process.Start(start)!;
        var (exit, error) = Finish(second);
        first.WaitForExit();

        Assert.Equal(ExitCodes.BadInput, exit);
        AssertOneLine(error);
        Assert.Contains("in use by another torchmomentum run", error);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "losses.csv")), File.ReadAllBytes(Path.Combine(real, "losses.csv")));
    }

    [Fact]
    public void Runs_started_together_without_out_each_get_a_folder_of_their_own()
    {
        string cwd = temporary["cwd"];
        Directory.CreateDirectory(cwd);
        var processes = Enumerable.Range(0, 6).Select(_ =>
        {
            var start = CliRunner.Process(["train", "--epochs", "1"]);
            start.WorkingDirectory = cwd;
            return Process.Start(start)!;
        }).ToList();
        var results = processes.Select(Finish).ToList();
        foreach (var p in processes) p.Dispose();

        Assert.All(results, r => Assert.Equal((ExitCodes.Ok, ""), (r.Exit, r.Error)));
        var folders = Directory.GetDirectories(Path.Combine(cwd, "runs"));
        Assert.Equal(6, folders.Length);
        Assert.All(folders, f => Assert.Equal(33, File.ReadAllLines(Path.Combine(f, "losses.csv")).Length)); // 1 epoch: 32 rows and a header
    }

    [Fact]
    public void A_missing_or_unusable_temporary_folder_does_not_matter()
    {
        string folder = temporary["out"];
        var start = CliRunner.Process(["train", "--epochs", "1", "--out", folder]);
        start.Environment["TMPDIR"] = temporary["no such folder"];
        using var process = Process.Start(start)!;
        var (exit, error) = Finish(process);
        Assert.Equal((ExitCodes.Ok, ""), (exit, error));
        Assert.True(File.Exists(Path.Combine(folder, "summary.json")));
    }

    [Theory]
    [InlineData("/proc/self", true)]
    [InlineData("/proc/self/new", false)]
    public void A_folder_that_cannot_be_written_is_one_line_of_bad_input_and_nothing_is_left(string folder, bool force)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "needs /proc");
        var (exit, _, error) = force ? CliRunner.Run("train", "--epochs", "1", "--out", folder, "--force") : CliRunner.Run("train", "--epochs", "1", "--out", folder);
        Assert.Equal(ExitCodes.BadInput, exit);
        AssertOneLine(error);
        Assert.Contains($"--out must be a folder that can be", error);
        Assert.False(Directory.Exists("/proc/self/new"));
    }

    /// <summary>
    /// Runs the command line as a user for whom <paramref name="folder"/> is read-only: as root (CI), as nobody,
    /// since root writes anywhere; as anyone else, directly.
    /// </summary>
    private static (int Exit, string Error) RunWithoutWriteAccess(string folder, params string[] args)
    {
        using var process = Process.Start(Environment.UserName == "root" ? OtherUser.Process(args) : CliRunner.Process(args))!;
        return Finish(process);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void A_second_user_runs_beside_the_first_and_cannot_hold_the_first_users_folder()
    {
        OtherUser.SkipUnlessAvailable();
        string mine = temporary["mine"], theirs = temporary["theirs"];
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--epochs", "1", "--out", mine).Exit);
        File.SetUnixFileMode(temporary.Path, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(theirs);
        File.SetUnixFileMode(theirs, (UnixFileMode)0b111_111_111);
        File.SetUnixFileMode(mine, (UnixFileMode)0b111_111_111); // even a folder anyone may write keeps its lock file private

        using (var other = Process.Start(OtherUser.Process("train", "--epochs", "1", "--out", theirs))!)
            Assert.Equal((ExitCodes.Ok, ""), Finish(other));
        Assert.True(File.Exists(Path.Combine(theirs, "summary.json")));
        // The other user cannot open this user's lock file, so cannot hold the folder with flock.
        using var holder = Process.Start(OtherUser.Process("train", "--resume", mine))!;
        var (exit, error) = Finish(holder);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("denied", error);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--epochs", "1", "--force", "--out", mine).Exit);
    }

    [Theory]
    [InlineData("out")]
    [InlineData("resume")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void A_read_only_folder_is_one_line_naming_the_cause_and_nothing_changes(string how)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "uses Unix permissions");
        string folder = temporary["read-only"];
        if (how == "resume") Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--epochs", "2", "--checkpoint-every", "1", "--out", folder).Exit);
        else Directory.CreateDirectory(folder);
        // The test folder is private to its owner: let the other user reach the read-only folder in it.
        File.SetUnixFileMode(temporary.Path, (UnixFileMode)0b111_101_101);
        foreach (var file in Directory.GetFiles(folder)) File.SetUnixFileMode(file, (UnixFileMode)0b110_100_100);
        File.SetUnixFileMode(folder, (UnixFileMode)0b101_101_101);
        var before = Directory.GetFiles(folder).ToDictionary(f => f, File.ReadAllBytes);
        try
        {
            var (exit, error) = how == "resume"
                ? RunWithoutWriteAccess(folder, "train", "--resume", folder)
                : RunWithoutWriteAccess(folder, "train", "--epochs", "1", "--out", folder);
            Assert.Equal(ExitCodes.BadInput, exit);
            AssertOneLine(error);
            Assert.Contains($"{(how == "resume" ? "--resume" : "--out")} must be a folder that can be written (got '{folder}': ", error);
            Assert.DoesNotContain(RunFolder.LockFileName, error); // the folder is named, not a file of ours in it
            Assert.Equal(before.Keys.Order(), Directory.GetFiles(folder).Order());
            foreach (var (file, bytes) in before) Assert.Equal(bytes, File.ReadAllBytes(file));
        }
        finally
        {
            File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        }
    }

    [Fact]
    public void A_run_beyond_a_containers_memory_limit_is_refused_before_it_starts()
    {
        string folder = temporary["contained"];
        var start = CliRunner.Process(["train", "--samples", "10000000", "--epochs", "1", "--batch-size", "1000", "--out", folder]);
        // What a 300 MB container's cgroup limit is to the .NET runtime; the machine itself has far more free.
        start.Environment["DOTNET_GCHeapHardLimit"] = "0x12C00000";
        using var process = Process.Start(start)!;
        var (exit, error) = Finish(process);
        Assert.Equal(ExitCodes.BadInput, exit);
        AssertOneLine(error);
        Assert.Matches(@"needs about [0-9.]+ GB of memory, more than the [0-9.]+ GB a run may take here \(80% of the 0\.3 GB available\)", error);
        Assert.False(Directory.Exists(folder));
    }
}
