using System.Diagnostics;
using TorchMomentum.Cli.CommandLine;

namespace TorchMomentum.Tests;

/// <summary>
/// A checkpointed train run killed with SIGKILL at any moment, checkpoint writes included, continues with --resume
/// to exactly the losses.csv an uninterrupted run writes (what a kill inside a write leaves is planted in
/// <see cref="ResumeTests"/>). Child processes only, so it runs beside the in-process tests.
/// </summary>
[Trait("Category", "Slow")]
[Collection(ChildProcessesOnly.KilledResumes)]
public sealed class ResumeAfterKillTests : IDisposable
{
    // Long enough that every kill (at most 250 ms after the first checkpoint) lands before the run ends.
    private static readonly string[] Run = ["train", "--epochs", "30", "--checkpoint-every", "1"];
    private readonly TemporaryFolder temporary = new();

    public void Dispose() => temporary.Dispose();

    private static Process Start(params string[] args)
    {
        var process = Process.Start(CliRunner.Process(args))!;
        // Drain the pipes so the child never blocks on a full one.
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static int Finish(params string[] args)
    {
        using var process = Start(args);
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>Starts the command and kills it at a random moment after its first checkpoint; false if it finished first.</summary>
    private static bool StartAndKill(Random random, string checkpoint, params string[] args)
    {
        using var process = Start(args);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(checkpoint) && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(2);
        Thread.Sleep(random.Next(0, 250));
        if (process.HasExited) return false;
        process.Kill();
        process.WaitForExit();
        return true;
    }

    [Theory]
    // Twelve and six kills land anywhere in the 30 epochs (a kill between 0 and 250 ms after a checkpoint) and about
    // half the resumed runs are killed again; more of them found nothing more and cost the suite 20 s.
    [InlineData("sgd,momentum,handwritten", 12)]
    // Every optimizer's state: momentum buffers, velocities, RMSprop's and Adam's step and averages.
    [InlineData("adam,sgd-effective,rmsprop,nesterov,handwritten,momentum,sgd", 6)]
    // Momentum's family and AdamW: AggMo's three buffers, schedule-free's z, x, y and its group's running numbers, the
    // EMA's average and count, AdamW's step (a resume that lost it would restart its bias correction).
    [InlineData("momentum,qhm,aggmo,accsgd,schedule-free,lion,ema,adamw", 6)]
    public void Runs_killed_at_random_moments_resume_to_the_uninterrupted_losses(string contestants, int wanted)
    {
        string reference = temporary["reference"];
        string[] run = [.. Run, "--contestants", contestants];
        Assert.Equal(ExitCodes.Ok, Finish([.. run, "--out", reference]));
        byte[] expected = File.ReadAllBytes(Path.Combine(reference, "losses.csv"));

        var random = new Random(2026);
        int kills = 0;
        for (int trial = 0; kills < wanted && trial < 2 * wanted; trial++)
        {
            string folder = temporary[$"killed-{trial}"];
            string checkpoint = Path.Combine(folder, "checkpoint.bin");
            if (StartAndKill(random, checkpoint, [.. run, "--out", folder])) kills++;
            // Sometimes kill the resumed run too: a resume must itself be resumable.
            if (random.Next(2) == 0 && StartAndKill(random, checkpoint, "train", "--resume", folder)) kills++;
            Assert.Equal(ExitCodes.Ok, Finish("train", "--resume", folder));
            Assert.True(expected.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(folder, "losses.csv"))), $"trial {trial}: losses.csv differs after resuming");
            Assert.True(File.Exists(Path.Combine(folder, "summary.json")) && File.Exists(Path.Combine(folder, "losses.png")));
        }
        Assert.True(kills >= wanted, $"only {kills} runs were killed before finishing");
    }
}
