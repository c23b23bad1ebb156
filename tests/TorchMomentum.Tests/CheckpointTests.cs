using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TorchMomentum.Cli.CommandLine;

namespace TorchMomentum.Tests;

/// <summary>
/// A checkpoint is read as the command line is: every stored setting in range, every tensor of the run's shape
/// and dtype, only a regular file of bounded size; an edited checkpoint sealed again with a fresh SHA-256, an
/// old version, a device or a pipe in its place are each refused with one line and exit code 2.
/// </summary>
public sealed class CheckpointTests : IDisposable
{
    private readonly TemporaryFolder temporary = new();

    public void Dispose() => temporary.Dispose();

    private string CheckpointedRun(string name)
    {
        string folder = temporary[name];
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("train", "--epochs", "4", "--checkpoint-every", "2", "--out", folder).Exit);
        return folder;
    }

    /// <summary>The checkpoint's JSON fields, changed by <paramref name="edit"/>, written back with a fresh seal.</summary>
    private static void Reseal(string file, Action<JsonObject> edit)
    {
        byte[] bytes = File.ReadAllBytes(file);
        var fields = JsonNode.Parse(bytes.AsSpan(0, bytes.Length - 32))!.AsObject();
        edit(fields);
        byte[] content = Encoding.UTF8.GetBytes(fields.ToJsonString());
        File.WriteAllBytes(file, [.. content, .. SHA256.HashData(content)]);
    }

    private static (int Exit, string Error) Resume(string folder)
    {
        var (exit, _, error) = CliRunner.Run("train", "--resume", folder);
        return (exit, error);
    }

    [Fact]
    public void The_checkpoint_is_named_fields_with_the_learning_rate_once()
    {
        string file = Path.Combine(CheckpointedRun("run"), "checkpoint.bin");
        byte[] bytes = File.ReadAllBytes(file);
        string json = Encoding.UTF8.GetString(bytes, 0, bytes.Length - 32);
        var fields = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(["format", "version", "settings", "epochs_done", "checkpoint_every", "rows_sha256", "generator_state", "contestants"],
            fields.Select(f => f.Key));
        Assert.Equal(4, (int)fields["epochs_done"]!);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(json, "learning_rate"));
        var contestants = fields["contestants"]!.AsArray();
        Assert.Equal(["sgd", "momentum", "handwritten"], contestants.Select(c => (string)c!["name"]!));
        Assert.Empty(contestants[0]!["tensors"]!.AsObject());
        Assert.Equal(["hidden.weight", "hidden.bias", "predict.weight", "predict.bias"], contestants[2]!["tensors"]!["momentum_buffer"]!.AsObject().Select(b => b.Key));
    }

    [Theory]
    [InlineData("momentum", "1.5", "--momentum")]
    [InlineData("seed", "-5", "--seed")]
    [InlineData("epochs", "1000000000", "--epochs")]
    [InlineData("learning_rate", "-0.1", "--lr")]
    [InlineData("hidden", "0", "--hidden")]
    [InlineData("batch_size", "5000", "--batch-size")]
    [InlineData("samples", "10000000", null)]
    public void Stored_settings_are_validated_exactly_as_the_command_lines(string setting, string value, string? option)
    {
        string folder = CheckpointedRun("run");
        Reseal(Path.Combine(folder, "checkpoint.bin"), fields => fields["settings"]![setting] = JsonNode.Parse(value));
        // What the command line itself says of the same value given as its option.
        string expected = option is null ? "needs about" : CliRunner.Run("train", option, value, "--out", temporary["refused"]).Error.Trim().TrimEnd('.');
        Assert.StartsWith(option ?? "needs", expected);
        if (setting == "samples")
        {
            // Within --samples' range but beyond this process's memory: as the command line, refused before it starts.
            var start = CliRunner.Process(["train", "--resume", folder]);
            start.Environment["DOTNET_GCHeapHardLimit"] = "0x12C00000"; // 300 MB, as a container's limit
            using var process = System.Diagnostics.Process.Start(start)!;
            string error = process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.Equal(ExitCodes.BadInput, process.ExitCode);
            Assert.Single(error.TrimEnd().Split('\n'));
            Assert.Contains(expected, error);
            return;
        }
        var (exit, message) = Resume(folder);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Single(message.TrimEnd().Split('\n'));
        Assert.Contains(expected, message);
    }

    [Theory]
    [InlineData("epochs_done")]
    [InlineData("checkpoint_every")]
    [InlineData("generator_state")]
    [InlineData("rows_sha256")]
    [InlineData("weights shape")]
    [InlineData("weights nan")]
    [InlineData("buffers missing a name")]
    [InlineData("sgd buffers")]
    [InlineData("contestant name")]
    [InlineData("contestants")]
    [InlineData("version")]
    [InlineData("not json")]
    public void An_edited_and_resealed_checkpoint_is_refused_with_one_line(string edit)
    {
        string folder = CheckpointedRun("run");
        string file = Path.Combine(folder, "checkpoint.bin");
        byte[] losses = File.ReadAllBytes(Path.Combine(folder, "losses.csv"));
        if (edit == "not json")
        {
            byte[] content = Encoding.UTF8.GetBytes("{\"format\": [");
            File.WriteAllBytes(file, [.. content, .. SHA256.HashData(content)]);
        }
        else Reseal(file, fields =>
        {
            var handwritten = fields["contestants"]![2]!;
            switch (edit)
            {
                case "epochs_done": fields["epochs_done"] = 9; break;
                case "checkpoint_every": fields["checkpoint_every"] = 0; break;
                case "generator_state": fields["generator_state"] = Convert.ToBase64String(new byte[16]); break;
                case "rows_sha256": fields["rows_sha256"] = Convert.ToBase64String(new byte[5]); break;
                case "weights shape": handwritten["weights"]!["hidden.weight"]!["shape"] = new JsonArray(21, 1); break;
                case "weights nan":
                    byte[] data = Convert.FromBase64String((string)handwritten["weights"]!["hidden.bias"]!["data"]!);
                    BitConverter.GetBytes(float.NaN).CopyTo(data, 0);
                    handwritten["weights"]!["hidden.bias"]!["data"] = Convert.ToBase64String(data);
                    break;
                case "buffers missing a name": handwritten["tensors"]!["momentum_buffer"]!.AsObject().Remove("predict.bias"); break;
                case "sgd buffers": fields["contestants"]![0]!["tensors"]!["momentum_buffer"] = handwritten["tensors"]!["momentum_buffer"]!.DeepClone(); break;
                case "contestant name": handwritten["name"] = "adam"; break;
                case "contestants": fields["contestants"]!.AsArray().RemoveAt(2); break;
                case "version": fields["version"] = 3; break;
            }
        });

        var (exit, error) = Resume(folder);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("cannot be loaded", error);
        Assert.DoesNotContain("Exception", error);
        Assert.Equal(losses, File.ReadAllBytes(Path.Combine(folder, "losses.csv")));
    }

    [Fact]
    public void A_checkpoint_of_an_earlier_version_is_refused_saying_so()
    {
        string folder = CheckpointedRun("run");
        // The layout versions 1 and 2 wrote: BinaryWriter's "TorchMomentum checkpoint", the version, then fields; sealed.
        var content = new MemoryStream();
        using (var w = new BinaryWriter(content, Encoding.UTF8, leaveOpen: true))
        {
            w.Write("TorchMomentum checkpoint");
            w.Write(2);
            w.Write("{}");
        }
        File.WriteAllBytes(Path.Combine(folder, "checkpoint.bin"), [.. content.ToArray(), .. SHA256.HashData(content.ToArray())]);
        var (exit, error) = Resume(folder);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("version 2 checkpoint of an earlier TorchMomentum; this build reads version 4 only", error);
    }

    [Theory]
    [InlineData("checkpoint.bin", "/dev/zero")]
    [InlineData("checkpoint.bin", "fifo")]
    [InlineData("losses.csv", "fifo")]
    [InlineData("checkpoint.bin", "large")]
    public async Task Only_a_regular_file_of_bounded_size_is_read(string name, string kind)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "needs mkfifo and /dev/zero");
        string folder = CheckpointedRun("run");
        string file = Path.Combine(folder, name);
        File.Delete(file);
        if (kind == "/dev/zero") File.CreateSymbolicLink(file, "/dev/zero");
        if (kind == "fifo") System.Diagnostics.Process.Start("mkfifo", [file])!.WaitForExit();
        if (kind == "large")
            using (var stream = File.Create(file)) stream.SetLength(TorchMomentum.Training.Checkpoint.MaxFileBytes + 1); // sparse: it takes no disk

        var resume = Task.Run(() => Resume(folder), TestContext.Current.CancellationToken);
        Assert.True(await Task.WhenAny(resume, Task.Delay(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken)) == resume, $"--resume hangs on a {kind} as {name}");
        var (exit, error) = await resume;
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains(kind == "large" ? "more than the" : "a device or pipe", error);
    }

    [Fact]
    public void A_resealed_checkpoint_with_its_contestants_reordered_is_refused_rather_than_resumed_under_the_old_header()
    {
        string folder = CheckpointedRun("run");
        string csv = Path.Combine(folder, "losses.csv");
        var rows = File.ReadAllBytes(csv);
        Reseal(Path.Combine(folder, "checkpoint.bin"), fields =>
        {
            var settings = fields["settings"]!.AsObject();
            settings["contestants"] = string.Join(',', settings["contestants"]!.GetValue<string>().Split(',').Reverse());
            var contestants = fields["contestants"]!.AsArray().Select(c => c!.DeepClone()).Reverse().ToArray();
            fields["contestants"] = new JsonArray(contestants);
        });
        var (exit, error) = Resume(folder);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("its header is 'step,epoch,sgd,momentum,handwritten', but the checkpoint races handwritten,momentum,sgd", error);
        Assert.Equal(rows, File.ReadAllBytes(csv));
    }
}
