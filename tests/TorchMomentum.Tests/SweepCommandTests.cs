using System.Diagnostics;
using TorchMomentum.Cli.CommandLine;
using TorchMomentum.Cli.Output;
using TorchMomentum.Sweeps;

namespace TorchMomentum.Tests;

/// <summary><c>sweep</c> and <c>sweep merge</c> as a user runs them: outputs, shards that merge to the same bytes, and refusals.</summary>
public sealed partial class SweepCommandTests : IDisposable
{
    private readonly TemporaryFolder temporary = new();

    public void Dispose() => temporary.Dispose();

    /// <summary>A sweep small enough for a test: 3 x 2 x 2 = 12 cells of 2 short epochs.</summary>
    private static readonly string[] Small =
        ["sweep", "--lr-min", "0.01", "--lr-max", "0.5", "--lr-count", "3", "--momentum-count", "2", "--momentum-max", "0.9", "--seeds", "1,5",
         "--epochs", "2", "--samples", "64", "--hidden", "6", "--batch-size", "10"];

    /// <summary>The small sweep with some options given other values, or added.</summary>
    private static string[] With(params string[] more)
    {
        var args = Small.ToList();
        for (int i = 0; i < more.Length; i++)
        {
            int at = more[i].StartsWith("--", StringComparison.Ordinal) ? args.IndexOf(more[i]) : -1;
            bool valued = i + 1 < more.Length && !more[i + 1].StartsWith("--", StringComparison.Ordinal);
            if (at >= 0 && valued) args[at + 1] = more[++i];
            else args.Add(more[i]);
        }
        return [.. args];
    }

    [Fact]
    public void A_whole_sweep_writes_its_tables_figures_and_summary()
    {
        string folder = temporary["whole"];
        var (exit, output, error) = CliRunner.Run(With("--out", folder));
        Assert.True(exit == ExitCodes.Ok, error);
        Assert.Equal(SweepOutputs.FilesOf(new SweepGrid()).Order(StringComparer.Ordinal), RunFolderFiles.Of(folder));
        var rows = File.ReadAllLines(Path.Combine(folder, SweepCsv.FileName));
        Assert.Equal("cell,lr,momentum,batch_size,seed,label_noise,effective_lr,final_loss,last_epoch_loss,diverged_step", rows[0]);
        Assert.Equal(13, rows.Length);
        Assert.Equal("10,0.07071067811865475,0.9,10,5,0.1,0.7071067811865477", string.Join(',', rows[11].Split(',')[..7])); // id = (seed 1 x 2 momenta + momentum 1) x 3 + lr 1
        Assert.Equal(1 + 12 * 2, File.ReadAllLines(Path.Combine(folder, SweepCsv.EpochsFileName)).Length);
        Assert.Contains("What the map says", output);
        Assert.Contains("\"cells\": 12", File.ReadAllText(Path.Combine(folder, Summary.FileName)));
    }

    private static string[] WithoutBatchSize(string[] args)
    {
        int at = Array.IndexOf(args, "--batch-size");
        return at < 0 ? args : [.. args[..at], .. args[(at + 2)..]];
    }

    /// <summary>The small sweep as a batch-size study: two batch sizes (the second the full data), two targets, a budget of 40 steps.</summary>
    private static string[] StudyArgs(params string[] more) =>
        WithoutBatchSize(With([.. more, "--batch-sizes", "5,64", "--targets", "0.08,0.05", "--steps", "40"]));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Shards_merge_into_the_same_bytes_as_the_one_process_sweep(bool study)
    {
        string whole = temporary["whole"], shards = temporary["shards"];
        // Up to lr 50 the sweep has cells that diverge: their steps and losses must survive the shard files too.
        string[] Args(params string[] more) => study ? StudyArgs(more) : With([.. more, "--lr-max", "50"]);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run(Args("--out", whole)).Exit);
        for (int i = 0; i < 3; i++)
        {
            var (exit, _, error) = CliRunner.Run(Args("--shard", $"{i}/3", "--out", shards));
            Assert.True(exit == ExitCodes.Ok, error);
        }
        Assert.Equal(["sweep-shard-0-of-3.bin", "sweep-shard-1-of-3.bin", "sweep-shard-2-of-3.bin"], RunFolderFiles.Of(shards));
        var (merged, _, mergeError) = CliRunner.Run("sweep", "merge", shards);
        Assert.True(merged == ExitCodes.Ok, mergeError);
        string[] compared = study ? [SweepCsv.FileName, SweepCsv.EpochsFileName, ScalingOutputs.CsvFileName] : [SweepCsv.FileName, SweepCsv.EpochsFileName];
        foreach (var file in compared)
            Assert.Equal(File.ReadAllBytes(Path.Combine(whole, file)), File.ReadAllBytes(Path.Combine(shards, file)));
        // summary.json too, but for how it ran (processes, times, memory): the map's points, the study, diverged cells.
        string Comparable(string folder)
        {
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, Summary.FileName)))!.AsObject();
            foreach (var key in new[] { "shards", "run", "cell_steps_per_second", "outputs_seconds" }) Assert.True(json.Remove(key), key);
            return json.ToJsonString();
        }
        Assert.Equal(Comparable(whole), Comparable(shards));
        if (!study)
            Assert.True(System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(whole, Summary.FileName)))!["diverged_cells"]!.GetValue<int>() > 0, "no cell diverged");
        if (study)
        {
            // The study measured something: some cell reached a target, at both batch sizes.
            var rows = File.ReadAllLines(Path.Combine(whole, SweepCsv.FileName)).Skip(1).Select(r => r.Split(',')).ToArray();
            Assert.Equal(12 * (2 + 32), rows.Length); // two tuning seeds and the 32 held-out ones
            Assert.All(new[] { "5", "64" }, b => Assert.Contains(rows, r => r[3] == b && r[^1] != ""));
            Assert.Equal(ScalingOutputs.Files.Order(StringComparer.Ordinal), RunFolderFiles.Of(whole).Intersect(ScalingOutputs.Files).Order(StringComparer.Ordinal));
            return;
        }

        // A second merge would replace the first's files: only with --force.
        var (again, _, againError) = CliRunner.Run("sweep", "merge", shards);
        Assert.Equal(ExitCodes.BadInput, again);
        Assert.Contains("--force", againError);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("sweep", "merge", shards, "--force").Exit);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public async Task A_sweep_gives_the_same_bits_on_the_avx2_path_as_on_avx512s()
    {
        // .NET 10 holds its JIT to AVX2 (16 vector registers) with DOTNET_EnableAVX512=0; the fused kernel is the same
        // source on both, and its loops are laid out to fit the smaller register file: the bits must not move.
        Assert.SkipUnless(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "this CPU has no AVX-512: the AVX2 path is its only one");
        string wide = temporary["avx-512"], narrow = temporary["avx2"];
        var (exit, output, error) = CliRunner.Run(With("--threads", "1", "--out", wide));
        Assert.True(exit == ExitCodes.Ok, error);
        Assert.Contains("fused engine (avx-512 (32 registers))", output);
        var start = CliRunner.Process(With("--threads", "1", "--out", narrow));
        start.Environment["DOTNET_EnableAVX512"] = "0";
        using var child = Process.Start(start)!;
        var childOutput = child.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        string childError = await child.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await child.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(child.ExitCode == ExitCodes.Ok, childError);
        Assert.Contains("fused engine (avx2 (16 registers))", await childOutput);
        foreach (var file in new[] { SweepCsv.FileName, SweepCsv.EpochsFileName })
            Assert.Equal(File.ReadAllBytes(Path.Combine(wide, file)), File.ReadAllBytes(Path.Combine(narrow, file)));
    }

    [Fact]
    public void The_torch_engine_still_trains_a_sweep_within_float32s_rounding_of_the_fused_one()
    {
        string fused = temporary["fused"], torch = temporary["torch"];
        Assert.Equal(ExitCodes.Ok, CliRunner.Run(With("--out", fused)).Exit);
        var (exit, output, error) = CliRunner.Run(With("--engine", "torch", "--out", torch));
        Assert.True(exit == ExitCodes.Ok, error);
        Assert.Contains("by the torch engine", output);
        Assert.Contains("\"engine\": \"torch\"", File.ReadAllText(Path.Combine(torch, Summary.FileName)));
        double[] Losses(string folder) => File.ReadAllLines(Path.Combine(folder, SweepCsv.EpochsFileName)).Skip(1)
            .Select(l => double.Parse(l.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var (a, b) = (Losses(fused), Losses(torch));
        Assert.Equal(a.Length, b.Length);
        Assert.All(a.Zip(b), p => Assert.Equal(p.Second, p.First, Math.Abs(p.Second) * 1e-4));
    }

    [Fact]
    public void A_rerun_shard_rewrites_its_own_file_and_a_shard_of_another_sweep_is_kept_without_force()
    {
        string shards = temporary["shards"];
        Assert.Equal(ExitCodes.Ok, CliRunner.Run(With("--shard", "1/2", "--out", shards)).Exit);
        string file = Path.Combine(shards, "sweep-shard-1-of-2.bin");
        var first = Content(file);
        File.SetLastWriteTimeUtc(file, DateTime.UnixEpoch);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run(With("--shard", "1/2", "--out", shards)).Exit); // a requeued task
        Assert.NotEqual(DateTime.UnixEpoch, File.GetLastWriteTimeUtc(file));
        var rerun = Content(file);
        Assert.Equal(Cells(first), Cells(rerun));

        var (exit, _, error) = CliRunner.Run(With("--shard", "1/2", "--out", shards, "--epochs", "3"));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("another sweep", error);
        Assert.Equal(rerun, Content(file));
        Assert.Equal(ExitCodes.Ok, CliRunner.Run(With("--shard", "1/2", "--out", shards, "--epochs", "3", "--force")).Exit);

        // Cells only: the timings differ from run to run.
        static string Cells(string json) => json[json.IndexOf("\"cells\"", StringComparison.Ordinal)..];
        static string Content(string path) => System.Text.Encoding.UTF8.GetString(TorchMomentum.Files.SealedFile.Read(path, 1 << 30).Span);
    }

    [Fact]
    public void Merge_names_what_is_missing_mixed_or_broken_and_writes_nothing()
    {
        string shards = temporary["shards"];
        var (none, _, noneError) = CliRunner.Run("sweep", "merge", shards);
        Assert.Equal(ExitCodes.BadInput, none);
        Assert.Contains("must exist", noneError);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run(With("--shard", "0/3", "--out", shards)).Exit);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run(With("--shard", "2/3", "--out", shards)).Exit);
        AssertRefused("sweep-shard-1-of-3.bin");

        Assert.Equal(ExitCodes.Ok, CliRunner.Run(With("--shard", "1/3", "--out", shards, "--hidden", "7")).Exit);
        AssertRefused("different sweeps");

        Assert.Equal(ExitCodes.Ok, CliRunner.Run(With("--shard", "1/3", "--out", shards, "--force")).Exit);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run(With("--shard", "0/2", "--out", shards)).Exit);
        AssertRefused("2 and 3 shards");
        File.Delete(Path.Combine(shards, "sweep-shard-0-of-2.bin"));

        string one = Path.Combine(shards, "sweep-shard-1-of-3.bin");
        File.WriteAllText(one, File.ReadAllText(one)[..100]); // cut short, as by a full disk
        AssertRefused("sweep-shard-1-of-3.bin' cannot be read");

        void AssertRefused(string why)
        {
            var (exit, _, error) = CliRunner.Run("sweep", "merge", shards);
            Assert.Equal(ExitCodes.BadInput, exit);
            Assert.Contains(why, error);
            Assert.Single(error.TrimEnd().Split('\n'));
            Assert.DoesNotContain(RunFolderFiles.Of(shards), f => !f.StartsWith("sweep-shard-", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("--lr-min", "0", "--lr-min must be a number in (0, inf) (got '0')")]
    [InlineData("--lr-max", "0.001", "--lr-max must be a number in [--lr-min = 0.01, inf) (got '0.001')")]
    [InlineData("--lr-count", "0", "--lr-count must be a whole number in [1, 4096] (got '0')")]
    [InlineData("--lr-min", "5e-324", "--lr-max / --lr-min must be a finite ratio (got 0.5 / 5E-324)")]
    [InlineData("--momentum-max", "1", "--momentum-max must be a number in [0, 1) (got '1')")]
    [InlineData("--seeds", "1,x", "--seeds must be distinct comma-separated whole numbers or ranges a-b in [0, 9223372036854775807] (got '1,x')")]
    [InlineData("--seeds", "01,1", "--seeds must be distinct comma-separated whole numbers or ranges a-b in [0, 9223372036854775807] (got '01,1')")]
    [InlineData("--lr-min", "1e-300", "--lr-min must be at least 1.401298464324817E-45, the smallest float32, with --dtype float32 (got '1E-300')")]
    [InlineData("--lr-max", "1e39", "--lr-max must be at most 3.4028234663852886E+38, the largest float32, with --dtype float32 (got '1E+39')")]
    [InlineData("--batch-size", "100", "--batch-size must be in [1, --samples = 64] (got '100')")]
    [InlineData("--shard", "3/3", "--shard must be i/n with n in [1, 100000] and i in [0, n - 1], or auto (got '3/3')")]
    [InlineData("--shards", "4", "--shards goes with --shard auto (a Kubernetes Indexed Job).")]
    [InlineData("--lr-count", "4096", "needs about")]
    [InlineData("--batch-sizes", "0", "--batch-sizes must be distinct comma-separated whole numbers or ranges a-b in [1, 10000000] (got '0')")]
    [InlineData("--batch-sizes", "2.5", "--batch-sizes must be distinct comma-separated whole numbers or ranges a-b in [1, 10000000] (got '2.5')")]
    [InlineData("--batch-sizes", "4,4", "--batch-sizes must be distinct comma-separated whole numbers or ranges a-b in [1, 10000000] (got '4,4')")]
    [InlineData("--batch-sizes", "1,65", "--batch-sizes must be 1 to 4096 distinct whole numbers in [1, --samples = 64], comma-separated (got '1,65')")]
    [InlineData("--targets", "0", "--targets must be distinct comma-separated numbers in (0, inf) (got '0')")]
    [InlineData("--targets", "NaN", "--targets must be distinct comma-separated numbers in (0, inf) (got 'NaN')")]
    [InlineData("--targets", "0.02,0.02", "--targets must be distinct comma-separated numbers in (0, inf) (got '0.02,0.02')")]
    [InlineData("--steps", "0", "--steps must be a whole number in [1, 10000000] (got '0')")]
    [InlineData("--batch-size+", "5", "--batch-size and --batch-sizes: give one of them")]
    [InlineData("--engine", "gpu", "--engine must be one of fused|torch (got 'gpu').")]
    public void Bad_input_is_one_line_exit_2_and_nothing_written(string option, string value, string message)
    {
        string folder = temporary["out"];
        string[] args = option == "--lr-count" && value == "4096"
            ? With("--lr-count", "4096", "--momentum-count", "4096", "--seeds", string.Join(',', Enumerable.Range(1, 64)), "--out", folder)
            : option == "--batch-size+" ? With("--batch-sizes", "1,2", "--out", folder)
            : option == "--batch-sizes" ? WithoutBatchSize(With(option, value, "--out", folder))
            : With(option, value, "--out", folder);
        CliRunner.Refused(args, message, folder);
    }

    [Theory]
    [InlineData("--label-noise", "-1", "--label-noise must be distinct comma-separated numbers in [0, 100] (got '-1')")]
    [InlineData("--label-noise", "NaN", "--label-noise must be distinct comma-separated numbers in [0, 100] (got 'NaN')")]
    [InlineData("--label-noise", "1e9", "--label-noise must be distinct comma-separated numbers in [0, 100] (got '1e9')")]
    [InlineData("--excess", "0", "--excess must be distinct comma-separated numbers in (0, inf) (got '0')")]
    [InlineData("--excess", "-0.01", "--excess must be distinct comma-separated numbers in (0, inf) (got '-0.01')")]
    [InlineData("--eval-seeds", "30,5", "--tune-seeds and --eval-seeds must not share a seed: a held-out seed chooses nothing (got 5 in both)")]
    [InlineData("--studies", "0", "--studies must be a whole number in [1, 4096] (got '0')")]
    [InlineData("--studies", "5", "--studies must divide the 24 --tune-seeds into equal sets (got 5)")]
    [InlineData("--tune-seeds", "1-3,2", "--seeds must be distinct comma-separated whole numbers or ranges a-b")]
    [InlineData("--momentum-count", "4", "--momentum-count lays out the grid menu; with --menu equal")]
    public void A_study_refuses_bad_input_in_one_line_before_any_work(string option, string value, string message)
    {
        string folder = temporary["out"];
        CliRunner.Refused(["scaling", option, value, "--out", folder], message, folder);
    }

    [Fact]
    public void A_fused_scratch_larger_than_one_array_is_refused_before_training()
    {
        // (2 + 65,534) x 8,193 vectors of 8 float32 lanes: 2^32 + 2^19 numbers, which a 32-bit product wraps to 2^19
        // (the kernel's own check once did, and would have written gigabytes past its scratch).
        string folder = temporary["out"];
        var (exit, _, error) = CliRunner.Run(["sweep", "--hidden", "65534", "--samples", "8193", "--batch-size", "8193", "--lr-count", "1",
            "--momentum-count", "1", "--seeds", "1", "--out", folder]);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("(2 + --hidden) x the largest batch size must be at most 268,435,448 with --engine fused, whose scratch holds that many "
            + "vectors of 8 numbers in one array (got (2 + 65534) x 8193 = 536,936,448); --engine torch has no such bound", error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.False(Directory.Exists(folder));
    }

    [Trait("Category", "Slow")]
    [Theory]
    [InlineData("INT", 130, "Ctrl+C")]
    [InlineData("TERM", 143, "SIGTERM")]
    public async Task A_signal_stops_a_sweep_within_a_step_and_nothing_is_written(string signal, int code, string name)
    {
        string folder = temporary["stopped"];
        // 2,000 epochs take a minute and a half by the torch engine (the fused one trains them in a few seconds, which a
        // loaded machine's set-up can outlast; both check the same token every step). The progress line comes up when
        // the cells are made and training starts (later lines come every 15 s or so when output is not a terminal): a
        // second after it, training is under way.
        using var process = Process.Start(CliRunner.Process(["sweep", "--epochs", "2000", "--seeds", "1", "--engine", "torch", "--out", folder]))!;
        var error = process.StandardError.ReadToEndAsync();
        string? line;
        do line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        while (line is not null && !line.StartsWith("cell-steps:", StringComparison.Ordinal));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.True(line is not null && !process.HasExited, "the sweep ended before it could be stopped");
        var output = process.StandardOutput.ReadToEndAsync();
        Process.Start("kill", [$"-{signal}", process.Id.ToString()])!.WaitForExit();
        bool stopped = process.WaitForExit(TimeSpan.FromSeconds(30));
        if (!stopped) process.Kill(); // it would train for hours
        Assert.True(stopped, $"the sweep did not stop on SIG{signal}");
        Assert.Equal(code, process.ExitCode);
        Assert.Equal($"sweep: stopped by {name}; nothing was written, and the folder holds what it held before.", (await error).Trim());
        Assert.Empty(RunFolderFiles.Of(folder));
    }

    [Fact]
    public void A_shard_needs_a_folder_every_shard_shares()
    {
        var (exit, _, error) = CliRunner.Run(With("--shard", "0/2"));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--shard needs --out", error);
    }

    [Theory]
    [InlineData("SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=4", null, 2, 4)]
    [InlineData("SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_STEP=2 SLURM_ARRAY_TASK_COUNT=3", null, 2, 3)] // --array=1-5:2
    [InlineData("JOB_COMPLETION_INDEX=3", 4, 3, 4)]
    public void Shard_auto_follows_the_schedulers_conventions(string environment, int? shards, int index, int count)
    {
        var variables = environment.Split(' ').Select(v => v.Split('=')).ToDictionary(v => v[0], v => v[1]);
        Assert.Equal(new Shard(index, count), ShardChoice.Resolve("auto", shards, variables.GetValueOrDefault, out string? error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("", null, "neither is set")]
    [InlineData("SLURM_ARRAY_TASK_ID=4 SLURM_ARRAY_TASK_COUNT=4", null, "is not one task")]
    [InlineData("JOB_COMPLETION_INDEX=1", null, "needs --shards N")]
    [InlineData("JOB_COMPLETION_INDEX=4", 4, "JOB_COMPLETION_INDEX must be a whole number in [0, --shards - 1 = 3] (got '4')")]
    public void Shard_auto_without_a_usable_scheduler_says_what_is_missing(string environment, int? shards, string message)
    {
        var variables = environment.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => v.Split('=')).ToDictionary(v => v[0], v => v[1]);
        Assert.Null(ShardChoice.Resolve("auto", shards, variables.GetValueOrDefault, out string? error));
        Assert.Contains(message, error);
    }
}
