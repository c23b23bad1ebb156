using System.Text.Json;
using TorchMomentum.Cli.CommandLine;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

public sealed class CliTests : IDisposable
{
    private readonly TemporaryFolder temporary = new();

    public void Dispose() => temporary.Dispose();

    private static (int Exit, string Output, string Error) Run(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void Train_one_epoch_writes_csv_json_and_png()
    {
        string folder = temporary["run"];
        var (exit, output, error) = Run("train", "--epochs", "1", "--out", folder);

        Assert.True(exit == 0, error);
        Assert.Contains("Mean loss per epoch", output);
        var lines = File.ReadAllLines(Path.Combine(folder, "losses.csv"));
        Assert.Equal("step,epoch,sgd,momentum,handwritten", lines[0]);
        Assert.Equal(32, lines.Length - 1);
        Assert.All(lines.Skip(1), line => Assert.Equal(5, line.Split(',').Length));
        Assert.StartsWith("31,0,", lines[^1]);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "summary.json")));
        Assert.Equal(1, json.RootElement.GetProperty("settings").GetProperty("epochs").GetInt32());
        Assert.Equal("cpu", json.RootElement.GetProperty("device").GetString());
        Assert.Equal(32, json.RootElement.GetProperty("steps").GetInt32());
        Assert.InRange(json.RootElement.GetProperty("max_parameter_difference").GetDouble(), 0, 2e-7);

        byte[] png = File.ReadAllBytes(Path.Combine(folder, "losses.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.Equal(["fit.png", "losses.csv", "losses.png", "summary.json"], RunFolderFiles.Of(folder));
    }

    [Trait("Category", "Slow")]
    [Fact]
    [Trait("Category", PyTorchScripts.Trait)]
    public void Train_export_adds_model_pt_that_pytorch_loads_and_predicts_with()
    {
        string folder = temporary["exported"], model = Path.Combine(folder, "model.pt");
        PyTorchScripts.SkipUnlessAvailable();
        Assert.Equal(0, Run("train", "--epochs", "1", "--export", "--out", folder).Exit);
        using var output = JsonDocument.Parse(PyTorchScripts.Run("load_export.py", [model]));
        var inputs = output.RootElement.GetProperty("inputs").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
        var predictions = output.RootElement.GetProperty("predictions").EnumerateArray().Select(e => e.GetDouble()).ToArray();

        // The same weights read back in C#, run on the same inputs.
        var weights = (System.Collections.Hashtable)TorchSharp.PyBridge.PyTorchUnpickler.UnpickleStateDict(model)["model"]!;
        using var net = new TorchMomentum.Model.Net();
        using (TorchSharp.torch.no_grad())
            foreach (var (name, parameter) in net.named_parameters()) parameter.copy_((TorchSharp.torch.Tensor)weights[name]!);
        using var x = TorchSharp.torch.tensor(inputs).unsqueeze(1);
        using var y = net.forward(x);
        var ours = y.data<float>().ToArray();
        Assert.Equal(10, predictions.Length);
        for (int i = 0; i < predictions.Length; i++)
            Assert.True(Math.Abs(ours[i] - predictions[i]) <= 1e-6, $"input {inputs[i]}: C# {ours[i]}, PyTorch {predictions[i]}");
    }

    [Fact]
    public void The_report_says_how_far_each_contestant_ended_above_the_noise_floor()
    {
        string folder = temporary["floor"];
        var (exit, output, _) = CliRunner.Run("train", "--epochs", "2", "--contestants", "sgd,adam", "--out", folder);
        Assert.Equal(0, exit);
        using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "summary.json")));
        var last = summary.RootElement.GetProperty("final_epoch_mean_loss");
        string Above(string name) => (last.GetProperty(name).GetDouble() - 0.01).ToString("+0.000000;-0.000000", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"Last epoch above the noise floor 0.01: sgd {Above("sgd")}, adam {Above("adam")}", output.ReplaceLineEndings(" ").Replace("  ", " "));
    }

    [Fact]
    public void The_noise_floor_is_the_variance_of_the_noise_the_data_is_drawn_with()
    {
        // A million samples of y = x^2 + noise: the mean of (y - x^2)^2 estimates the noise's variance to within
        // 0.14% (one standard deviation, sqrt(2 / n)); 1% is seven of them.
        TorchSharp.torch.manual_seed(27);
        var (x, y) = TorchMomentum.Data.ChapterData.Generate(1_000_000, TorchSharp.torch.CPU, TorchSharp.torch.ScalarType.Float64);
        using (x)
        using (y)
        using (var noise = y - x.square())
        using (var variance = noise.square().mean())
            Assert.Equal(1, variance.item<double>() / TorchMomentum.Data.ChapterData.NoiseFloor(0.1), 0.01);
    }

    [Fact]
    public void Timings_say_where_the_time_went_and_the_first_line_names_the_threads()
    {
        string folder = temporary["timed"];
        double processAge;
        using (var process = System.Diagnostics.Process.GetCurrentProcess()) processAge = (DateTime.Now - process.StartTime).TotalSeconds;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (exit, output, _) = Run("train", "--epochs", "1", "--timings", "--out", folder);
        double wall = clock.Elapsed.TotalSeconds;
        Assert.Equal(0, exit);
        Assert.Contains(Environment.ProcessorCount == 1 ? "1 thread, the fastest for a net this small" : "1 thread a net, the fastest for a net this small, 2 nets at once",
            System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " ")); // the console wraps its lines
        Assert.Contains("Where the time went", output);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "summary.json")));
        var phases = json.RootElement.GetProperty("timings").EnumerateObject().Select(p => (p.Name, Seconds: p.Value.GetDouble())).ToList();
        Assert.Equal(["runtime start and parsing", "libtorch load", "data and nets", "training", "report", "plot"], phases.Select(p => p.Name));
        // The first phase is the process's age when the command began (here the test host's, older than it was
        // just before the run); the others are the command's own time, phase after phase, so each took some
        // time and together no more than the whole run as measured from outside.
        Assert.True(phases[0].Seconds >= processAge, $"process age {processAge} s, first phase {phases[0].Seconds} s");
        Assert.All(phases.Skip(1), p => Assert.True(p.Seconds > 0, $"{p.Name}: {p.Seconds} s"));
        Assert.InRange(phases.Skip(1).Sum(p => p.Seconds), 0, wall);
    }

    [Fact]
    public void Same_seed_gives_a_byte_identical_losses_csv()
    {
        string a = temporary["a"], b = temporary["b"], c = temporary["c"];
        Assert.Equal(0, Run("train", "--epochs", "2", "--out", a).Exit);
        Assert.Equal(0, Run("train", "--epochs", "2", "--out", b).Exit);
        Assert.Equal(0, Run("train", "--epochs", "2", "--seed", "2", "--out", c).Exit);
        byte[] first = File.ReadAllBytes(Path.Combine(a, "losses.csv"));
        Assert.Equal(first, File.ReadAllBytes(Path.Combine(b, "losses.csv")));
        Assert.NotEqual(first, File.ReadAllBytes(Path.Combine(c, "losses.csv")));
    }

    [Fact]
    public void The_label_noise_scales_the_same_draws_and_the_chapters_stays_byte_identical()
    {
        string chapter = temporary["chapter"], given = temporary["given"], none = temporary["none"];
        Assert.Equal(0, Run("train", "--epochs", "1", "--out", chapter).Exit);
        Assert.Equal(0, Run("train", "--epochs", "1", "--label-noise", "0.1", "--out", given).Exit);
        Assert.Equal(0, Run("train", "--epochs", "1", "--label-noise", "0", "--out", none).Exit);
        byte[] first = File.ReadAllBytes(Path.Combine(chapter, "losses.csv"));
        Assert.Equal(first, File.ReadAllBytes(Path.Combine(given, "losses.csv")));
        Assert.NotEqual(first, File.ReadAllBytes(Path.Combine(none, "losses.csv")));
        // The same draws, scaled: sigma 0.3's noise is three times sigma 0.1's, sample for sample (float32 rounding apart).
        double[] Noise(double sigma)
        {
            manual_seed(1);
            var (x, y) = TorchMomentum.Data.ChapterData.Generate(1000, CPU, ScalarType.Float64, sigma);
            using (x)
            using (y)
            using (var noise = y - x.square())
                return noise.data<double>().ToArray();
        }
        var (tenth, three, zero) = (Noise(0.1), Noise(0.3), Noise(0));
        Assert.All(tenth.Zip(three), p => Assert.Equal(3 * p.First, p.Second, 1e-6));
        Assert.All(zero, v => Assert.Equal(0, v, 1e-7)); // y = x^2 in float32, widened
    }

    [Fact]
    public void Train_with_defaults_writes_the_losses_the_unoptimised_loop_wrote()
    {
        // Fixtures/losses-default.csv is `train` with its defaults as the first version wrote it: a narrow per
        // batch, Module.zero_grad, the chapter's teaching step. Batching by split, zeroing through the
        // optimizer and the fused flat-buffer step must not change a byte on one machine (two runs, the same
        // bytes) and must not move a loss by more than rounding against the fixture, which another CPU's
        // kernels may round differently.
        string first = temporary["defaults"], second = temporary["again"];
        Assert.Equal(0, Run("train", "--out", first).Exit);
        Assert.Equal(0, Run("train", "--out", second).Exit);
        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "losses.csv")), File.ReadAllBytes(Path.Combine(second, "losses.csv")));
        Assert.InRange(Fixtures.LargestLossDifference(Fixtures.Path("losses-default.csv"), Path.Combine(first, "losses.csv")), 0, 1e-6);
    }

    [Fact]
    public void Device_cuda_on_a_cpu_build_says_so_and_writes_nothing()
    {
        Assert.SkipWhen(TorchSharp.torch.cuda.is_available(), "this machine has CUDA; the test is about builds and machines without it");
        string folder = temporary["cuda"];
        var (exit, _, error) = Run("train", "--device", "cuda", "--out", folder);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("CPU backend", error);
        Assert.Contains("TorchBackend=cuda", error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.False(Directory.Exists(folder));
    }

    [Theory]
    [InlineData("--lr", "-1", "--lr must be a number in [0, inf)")]
    [InlineData("--lr", "abc", "(got 'abc')")]
    [InlineData("--lr", "NaN", "--lr must be a number")]
    [InlineData("--momentum", "1", "--momentum must be a number in [0, 1)")]
    [InlineData("--batch-size", "0", "--batch-size must be a whole number in [1,")]
    [InlineData("--batch-size", "1001", "--batch-size must be in [1, --samples = 1000] (got '1001')")]
    [InlineData("--epochs", "0", "--epochs must be a whole number in [1,")]
    [InlineData("--hidden", "2.5", "--hidden must be a whole number")]
    [InlineData("--device", "tpu", "--device must be one of cpu|cuda|auto (got 'tpu')")]
    [InlineData("--threads", "0", "--threads must be a whole number in [1, ")]
    [InlineData("--threads", "1024", "(got '1024')")]
    [InlineData("--checkpoint-every", "0", "--checkpoint-every must be a whole number in [1, 1000000] (got '0')")]
    [InlineData("--samples", "0", "--samples must be a whole number in [1,")]
    [InlineData("--dtype", "float16", "--dtype must be one of float32|float64 (got 'float16')")]
    [InlineData("--seed", "-1", "--seed must be a whole number in [0,")]
    [InlineData("--label-noise", "-0.1", "--label-noise must be a number in [0, 100] (got '-0.1')")]
    [InlineData("--label-noise", "NaN", "--label-noise must be a number in [0, 100] (got 'NaN')")]
    [InlineData("--label-noise", "1e300", "--label-noise must be a number in [0, 100] (got '1e300')")]
    [InlineData("--bogus", "1", "--bogus")]
    public void Bad_values_are_refused_with_one_line_and_exit_code_2(string option, string value, string expected)
    {
        string folder = temporary["bad"];
        var (exit, _, error) = Run("train", option, value, "--out", folder);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains(expected, error);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void Force_replaces_the_commands_results_and_leaves_other_files_alone()
    {
        string folder = temporary["forced"];
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");
        File.WriteAllText(Path.Combine(folder, "losses.csv"), "old");
        File.WriteAllText(Path.Combine(folder, "checkpoint.bin"), "stale");
        Assert.Equal(0, Run("train", "--epochs", "1", "--out", folder, "--force").Exit);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(folder, "notes.txt")));
        Assert.StartsWith("step,epoch,", File.ReadAllText(Path.Combine(folder, "losses.csv")));
        Assert.False(File.Exists(Path.Combine(folder, "checkpoint.bin")), "a stale checkpoint would let --resume mix two runs");
    }

    [Fact]
    public void An_out_folder_that_cannot_be_created_is_refused()
    {
        var (exit, _, error) = Run("train", "--epochs", "1", "--out", "/proc/torchmomentum-cannot-be-here");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--out must be a folder that can be written", error);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void A_diverging_run_stops_keeps_its_rows_and_says_so()
    {
        string folder = temporary["diverged"];
        var (exit, _, error) = Run("train", "--lr", "10", "--out", folder);
        Assert.Equal(ExitCodes.Diverged, exit);
        Assert.Single(error.TrimEnd().Split('\n'));
        var match = System.Text.RegularExpressions.Regex.Match(error, @"^(sgd|momentum|handwritten) diverged at step (\d+): .*last finite loss [0-9.E+-]+\)");
        Assert.True(match.Success, error);
        int step = int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        var rows = File.ReadAllLines(Path.Combine(folder, "losses.csv")).Skip(1).ToList();
        Assert.Equal(step, rows.Count);
        Assert.All(rows, row => Assert.All(row.Split(',').Skip(2), v => Assert.True(double.IsFinite(double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)))));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "summary.json")));
        Assert.True(json.RootElement.GetProperty("diverged").GetBoolean());
        Assert.Equal(step, json.RootElement.GetProperty("divergence").GetProperty("step").GetInt32());
        Assert.True(File.Exists(Path.Combine(folder, "losses.png")));
    }

    [Fact]
    public void An_out_folder_that_holds_files_is_refused_and_left_as_it_was()
    {
        string folder = temporary["taken"];
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "losses.csv"), "mine");
        var (exit, _, error) = Run("train", "--epochs", "1", "--out", folder);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--out must be a new or empty folder", error);
        Assert.Contains("--force", error);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(folder, "losses.csv")));
    }

    [Theory]
    [InlineData("float32", "0", "--export needs --lr > 0 (got '0')")]
    [InlineData("float64", "0", "--export needs --lr > 0 (got '0')")]
    [InlineData("float32", "1e-50", "--export needs --lr > 0 in float32 (got '1E-50')")]
    public void Export_at_a_learning_rate_of_zero_is_refused_before_anything_runs(string dtype, string lr, string expected)
    {
        // model.pt holds PyTorch's buffer v / lr: at lr 0 that is 0/0, NaN in every buffer.
        string folder = temporary["lr0"];
        var (exit, _, error) = Run("train", "--lr", lr, "--dtype", dtype, "--export", "--epochs", "1", "--out", folder);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains(expected, error);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void Export_at_a_learning_rate_only_float64_can_hold_writes_finite_buffers()
    {
        string folder = temporary["tiny"];
        Assert.Equal(0, Run("train", "--lr", "1e-50", "--dtype", "float64", "--export", "--epochs", "1", "--out", folder).Exit);
        var saved = TorchSharp.PyBridge.PyTorchUnpickler.UnpickleStateDict(Path.Combine(folder, "model.pt"));
        var state = (System.Collections.Hashtable)((System.Collections.Hashtable)saved["optimizer"]!)["state"]!;
        Assert.Equal(4, state.Count);
        foreach (System.Collections.Hashtable entry in state.Values)
            Assert.True(((TorchSharp.torch.Tensor)entry["momentum_buffer"]!).isfinite().all().item<bool>());
    }

    [Fact]
    public void Resuming_a_run_at_lr_0_with_export_is_refused_and_leaves_the_run_as_it_was()
    {
        string folder = temporary["resume-lr0"];
        Assert.Equal(0, Run("train", "--lr", "0", "--epochs", "2", "--checkpoint-every", "1", "--out", folder).Exit);
        var before = Directory.GetFiles(folder).ToDictionary(f => f, File.ReadAllBytes);

        var (exit, _, error) = Run("train", "--resume", folder, "--export");

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("--export needs --lr > 0 (got '0')", error);
        Assert.Equal(before.Keys.Order(), Directory.GetFiles(folder).Order());
        Assert.All(before, file => Assert.Equal(file.Value, File.ReadAllBytes(file.Key)));
    }

    private const string Commands = "the commands are train, sweep, scaling, curvature, verify, quadratic, rate, velocity, noise, explore";

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("frobnicate", "--help")]
    [InlineData("--help", "frobnicate")]
    [InlineData("trian", "--epochs", "1")]
    public void An_unknown_command_is_refused_in_one_line_naming_the_commands_even_with_help(params string[] args)
    {
        var (exit, output, error) = Run(args);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal($"unknown command '{args.First(a => !a.StartsWith('-'))}'; {Commands}.", error.TrimEnd());
        Assert.Empty(output);
    }

    [Fact]
    public void No_command_is_refused_in_one_line_naming_the_commands()
    {
        var (exit, output, error) = Run();
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal($"torchmomentum needs a command; {Commands} (torchmomentum --help says what each does).", error.TrimEnd());
        Assert.Empty(output);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("train", "--help")]
    public void Help_for_the_program_or_a_known_command_exits_0(params string[] args)
    {
        var (exit, output, error) = Run(args);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Empty(error);
        Assert.Contains($"Usage:\n  torchmomentum {(args.Length > 1 ? args[0] + " " : "")}[", output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_value_holding_a_newline_is_refused_in_one_line()
    {
        var (exit, _, error) = CliRunner.Run("train", "--contestants", "sgd\nadam", "--epochs", "1");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("sgd\\nadam", error);
    }

    [Theory]
    [InlineData("cannot be read: its content does not match.", "cannot be read: its content does not match.")]
    [InlineData("cannot be read: its content does not match..", "cannot be read: its content does not match.")]
    [InlineData("missing: a, b, ...", "missing: a, b, ...")]
    [InlineData("got 'a\r\nb'\n", "got 'a\\r\\nb'")]
    [InlineData("got '\u0007'", "got '\\u0007'")]
    public void A_refusal_is_one_line_ending_in_one_period(string message, string shown) => Assert.Equal(shown, ExitCodes.OneLine(message));

    [Fact]
    public void A_merge_folder_that_cannot_be_written_is_named_as_the_merge_names_it()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "needs /proc");
        using var folder = TorchMomentum.Cli.Output.RunFolder.Existing("/proc/self", "sweep merge FOLDER", ["sweep.csv"], out string? error);
        Assert.Null(folder);
        Assert.StartsWith("sweep merge FOLDER must be a folder that can be written (got '/proc/self': ", error);
        Assert.DoesNotContain(".torchmomentum", error);
    }
}
