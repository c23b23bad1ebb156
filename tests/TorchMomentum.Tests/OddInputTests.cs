using TorchMomentum.Cli.CommandLine;

namespace TorchMomentum.Tests;

/// <summary>
/// Every valid input ends in exit 0 with its files, however odd its shape; every input that cannot run is refused in
/// one line naming the option the user gave, before any work; a curvature run that diverges says so as train does.
/// Each case once ended in an exception after the work (exit 1) or quoted an option nobody gave.
/// </summary>
public sealed class OddInputTests : IDisposable
{
    private readonly TemporaryFolder temporary = new();

    public void Dispose() => temporary.Dispose();

    private const string SmallStudy = "--lr-count 2 --tune-seeds 1 --eval-seeds 2 --studies 1";

    [Theory]
    [InlineData("sweep --lr-count 2 --momentum-count 2 --seeds 1 --steps 3", "sweep.png")] // no cell finishes an epoch
    [InlineData("scaling " + SmallStudy + " --batch-sizes 10,100 --steps 20", "speedup.png")] // nothing stays at a target
    [InlineData("scaling " + SmallStudy + " --batch-sizes 10,100 --targets 100 --steps 30", "scaling.png")] // the start meets the target
    [InlineData("scaling " + SmallStudy + " --samples 1 --batch-sizes 1 --steps 50", "summary.json")] // a variance over one sample
    [InlineData("sweep --samples 7 --batch-sizes 1,7 --lr-count 2 --momentum-count 2 --seeds 1", "sweep.csv")] // --batch-size's unused default 32
    public void A_valid_run_of_any_shape_ends_with_exit_0_and_its_files(string command, string file)
    {
        string folder = temporary["run"];
        var (exit, _, error) = CliRunner.Run([.. command.Split(' '), "--out", folder]);
        Assert.True(exit == ExitCodes.Ok, error);
        Assert.True(File.Exists(Path.Combine(folder, file)), $"no {file}");
        using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "summary.json")));
    }

    [Fact]
    public void Shards_of_a_sweep_that_finishes_no_epoch_merge()
    {
        string folder = temporary["shards"];
        foreach (string shard in new[] { "0/2", "1/2" })
            Assert.Equal(ExitCodes.Ok, CliRunner.Run("sweep", "--lr-count", "2", "--momentum-count", "2", "--seeds", "1", "--steps", "3", "--shard", shard, "--out", folder).Exit);
        var (exit, _, error) = CliRunner.Run("sweep", "merge", folder);
        Assert.True(exit == ExitCodes.Ok, error);
        Assert.True(File.Exists(Path.Combine(folder, "sweep.png")));
    }

    [Fact]
    public void Shards_of_a_study_whose_cells_diverge_merge_into_the_one_process_study()
    {
        // A diverged cell's curve is infinite from there: the shard file keeps it as bytes, which JSON numbers cannot.
        string[] study = ["scaling", .. SmallStudy.Split(' '), "--batch-sizes", "10,100", "--lr-min", "0.1", "--lr-max", "1000", "--steps", "30", "--samples", "100", "--hidden", "4"];
        string shards = temporary["study-shards"], whole = temporary["study-whole"];
        foreach (string shard in new[] { "0/2", "1/2" })
        {
            var (exit, _, error) = CliRunner.Run([.. study, "--shard", shard, "--out", shards]);
            Assert.True(exit == ExitCodes.Ok, error);
        }
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("scaling", "merge", shards).Exit);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run([.. study, "--out", whole]).Exit);
        Assert.Contains(File.ReadAllLines(Path.Combine(whole, "sweep.csv")).Skip(1), row => row.Split(',')[9] != ""); // some cell diverged
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "scaling.csv")), File.ReadAllBytes(Path.Combine(shards, "scaling.csv")));
    }

    [Theory]
    [InlineData("qhm.nu=1.5", "--contestant-settings qhm.nu must be a number in [0, 1] (got '1.5')")]
    [InlineData("qhm.beta=1", "--contestant-settings qhm.beta must be a number in [0, 1) (got '1')")]
    [InlineData("aggmo.betas=0:1", "--contestant-settings aggmo.betas must be a number in [0, 1) (got '1')")]
    [InlineData("lion.lr=0", "--contestant-settings lion.lr must be a number in (0, inf) (got '0')")]
    [InlineData("adamw.lr=-1", "--contestant-settings adamw.lr must be a number in (0, inf) (got '-1')")]
    [InlineData("accsgd.kappa=0.5", "--contestant-settings accsgd.kappa must be a number in [1, inf) (got '0.5')")]
    [InlineData("accsgd.xi=40", "--contestant-settings accsgd.xi must be a number in (0, 31.622776601683793] (got '40')")]
    [InlineData("ema.decay=1", "--contestant-settings ema.decay must be a number in [0, 1) (got '1')")]
    [InlineData("schedule-free.momentum=1", "--contestant-settings schedule-free.momentum must be a number in (0, 1) (got '1')")]
    [InlineData("qhm.mu=1", "--contestant-settings sets 'mu', which qhm does not have; it has lr, beta, nu (got 'qhm.mu=1')")]
    [InlineData("qhm.nu=0.5,qhm.nu=0.6", "--contestant-settings sets qhm.nu twice")]
    [InlineData("nesterov.lr=1", "--contestant-settings sets 'lr', but nesterov has no settings")]
    [InlineData("adam.lr=1", "--contestant-settings sets 'lr', but adam has no settings")]
    [InlineData("momentum", "--contestant-settings must be a comma-separated list of contestant.knob=value")]
    public void A_family_setting_out_of_its_range_is_refused_in_one_line_and_nothing_is_written(string setting, string message)
    {
        string folder = temporary["refused"];
        CliRunner.Refused(["train", "--contestants", "momentum,qhm,aggmo,accsgd,schedule-free,lion,ema,adamw", "--contestant-settings", setting, "--out", folder], message, folder);
    }

    [Theory]
    [InlineData("qhm,lion,qhm", "--contestants must be distinct names")]
    [InlineData("momentum", "--contestant-settings sets lion.lr, but the run does not race lion")]
    public void A_contestant_named_twice_or_set_without_racing_is_refused(string contestants, string message)
    {
        string folder = temporary["refused"];
        CliRunner.Refused(["train", "--contestants", contestants, "--contestant-settings", "lion.lr=0.01", "--out", folder], message, folder);
    }

    [Theory]
    [InlineData("train --lr 1e39 --epochs 1", "--lr must be at most 3.4028235E+38, the largest float32, with --dtype float32 (got '1E+39')")]
    [InlineData("curvature --lr 1e308", "--lr must be at most 3.4028235E+38, the largest float32, with --dtype float32 (got '1E+308')")]
    [InlineData("curvature --hidden 1365 --samples 100000 --batch-size 100000 --epochs 1", "--samples x (3 x --hidden + 1) must be at most 268435455 for curvature")]
    [InlineData("curvature --samples 10000000 --batch-size 10000000 --every 1", "(got 10000000 x 61 = 610000000)")]
    [InlineData("scaling --batch-sizes 1000 --steps 10000000 --lr-count 1", "--steps must be at most 1000000 at batch size 1000, 1000000 epochs of 1 steps (got '10000000')")]
    [InlineData("scaling --steps 10000 --lr-count 4096", "--steps 10000")] // the memory refusal names the budget given, not --epochs
    [InlineData("scaling --steps 10000 --shard 0/1", "--shard: shard 0/1 of this sweep would take about 1,5")] // a shard merge could not read
    public void Work_that_cannot_run_is_refused_in_one_line_naming_the_options_given(string command, string message)
    {
        string folder = temporary["refused"];
        CliRunner.Refused([.. command.Split(' '), "--out", folder], message, folder);
        Assert.DoesNotContain("--epochs 12", CliRunner.Run([.. command.Split(' '), "--out", folder]).Error);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public async Task A_sweep_shows_its_set_up_before_its_first_step()
    {
        // A grid of millions of cells draws and makes them for seconds before its first step: a bar of its own says so.
        // A child process, its output a pipe, as a log or a scheduler's job sees it: the bar prints a line about once a
        // second there, so the set-up is made to last one (1,500 seeds' data and nets).
        using var process = System.Diagnostics.Process.Start(CliRunner.Process(["sweep", "--lr-count", "2", "--momentum-count", "2", "--seeds", "1-1500", "--epochs", "1", "--out", temporary["setup"]]))!;
        var error = process.StandardError.ReadToEndAsync();
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == ExitCodes.Ok, await error);
        Assert.Contains("set-up:", output);
    }

    [Fact]
    public void A_curvature_run_that_diverges_says_so_with_exit_3_and_keeps_what_it_measured()
    {
        string folder = temporary["diverged"];
        var (exit, _, error) = CliRunner.Run("curvature", "--lr", "100", "--epochs", "1", "--out", folder);
        Assert.Equal(ExitCodes.Diverged, exit);
        Assert.Contains("diverged at step", error);
        Assert.True(File.Exists(Path.Combine(folder, "curvature.csv")));
    }
}
