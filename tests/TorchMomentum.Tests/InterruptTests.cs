using System.Diagnostics;
using TorchMomentum.Cli.CommandLine;

namespace TorchMomentum.Tests;

/// <summary>
/// Ctrl+C (SIGINT) or SIGTERM during <c>train</c> stops it between two steps: the terminal gets its cursor back,
/// one line says what was kept, the exit code is the signal's (130, 143), and a checkpointed run resumes to the
/// losses an uninterrupted run writes.
/// </summary>
[Trait("Category", "Slow")]
public sealed class InterruptTests : IDisposable
{
    private static readonly string[] Long = ["train", "--epochs", "20000", "--checkpoint-every", "5"];
    private readonly TemporaryFolder temporary = new();

    public void Dispose() => temporary.Dispose();

    /// <summary>Starts a long run, waits for its second checkpoint, sends <paramref name="signal"/>, and returns the exit code and stderr.</summary>
    private static (int Exit, string Error) Interrupt(string folder, string signal, int times)
    {
        using var process = Process.Start(CliRunner.Process([.. Long, "--out", folder]))!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        string checkpoint = Path.Combine(folder, "checkpoint.bin");
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(checkpoint) && clock.Elapsed > TimeSpan.FromSeconds(1)) && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(10);
        Assert.False(process.HasExited, "the run ended before it could be interrupted");
        // Twice at once is what a terminal's Ctrl+C under `dotnet run` or `timeout` can deliver: still one stop.
        for (int i = 0; i < times; i++) Process.Start("kill", [$"-{signal}", process.Id.ToString()])!.WaitForExit();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), $"the run did not stop on SIG{signal}");
        output.Wait();
        return (process.ExitCode, error.Result);
    }

    [Theory]
    [InlineData("INT", 1, 130, "Ctrl+C")]
    [InlineData("INT", 2, 130, "Ctrl+C")]
    [InlineData("TERM", 1, 143, "SIGTERM")]
    public void A_signal_stops_the_run_between_steps_says_what_was_kept_and_the_checkpoint_resumes(string signal, int times, int code, string name)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "sends POSIX signals with kill");
        string folder = temporary["run"];
        var (exit, error) = Interrupt(folder, signal, times);

        Assert.Equal(code, exit);
        Assert.Single(error.TrimEnd().Split('\n'));
        var said = System.Text.RegularExpressions.Regex.Match(error,
            $@"^Stopped by {System.Text.RegularExpressions.Regex.Escape(name)} after step (\d+): losses\.csv keeps steps 0 to (\d+) in '.*'; checkpoint\.bin \(after epoch (\d+)\) continues with `torchmomentum train --resume .*`\.");
        Assert.True(said.Success, error);
        // What it says is what is there: whole rows up to the step named, flushed.
        var rows = File.ReadAllLines(Path.Combine(folder, "losses.csv"));
        Assert.Equal(int.Parse(said.Groups[2].Value) + 2, rows.Length);
        Assert.EndsWith("\n", File.ReadAllText(Path.Combine(folder, "losses.csv")));
        Assert.False(File.Exists(Path.Combine(folder, "summary.json")), "a stopped run wrote the summary of a finished one");

        // Resumed from its checkpoint and finished early (the same run, fewer epochs would differ): compare the
        // rows up to the checkpoint with an uninterrupted run of the same settings.
        int epoch = int.Parse(said.Groups[3].Value);
        string reference = temporary["reference"];
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--epochs", $"{epoch}", "--out", reference).Exit);
        var expected = File.ReadAllLines(Path.Combine(reference, "losses.csv"));
        Assert.Equal(expected, rows.Take(expected.Length));
    }

    [Fact]
    public void Ctrl_C_in_a_terminal_gives_the_cursor_back()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && File.Exists("/usr/bin/script") && File.Exists("/usr/bin/timeout"),
            "needs util-linux's script (a terminal) and coreutils' timeout");
        string folder = temporary["terminal"], transcript = temporary["transcript"];
        string dll = CliRunner.Dll;
        // script gives the run a pseudo-terminal, so the progress bar hides the cursor; timeout sends SIGINT after 5 s, by which time even a busy machine is training (it starts in under 1 s).
        var start = new ProcessStartInfo("/usr/bin/script")
        {
            ArgumentList = { "-qec", $"timeout --preserve-status -s INT 5 dotnet '{dll}' train --epochs 20000 --out '{folder}'", transcript },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();

        string screen = File.ReadAllText(transcript);
        Assert.Equal(ExitCodes.Interrupted, process.ExitCode);
        int hidden = screen.LastIndexOf("\u001b[?25l", StringComparison.Ordinal);
        Assert.True(hidden >= 0, "the progress bar never hid the cursor: not a terminal?");
        Assert.True(screen.IndexOf("\u001b[?25h", hidden, StringComparison.Ordinal) > hidden, "the cursor is still hidden after Ctrl+C");
        Assert.Contains("Stopped by Ctrl+C after step", screen);
    }
}
