using System.Collections;
using System.Globalization;
using System.Text.Json;
using TorchMomentum.Cli.Output;
using TorchMomentum.Training;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

/// <summary>model.pt (train --export) holds the hand-written net and its optimizer state in PyTorch's format.</summary>
[Trait("Category", "Slow")]
public sealed class ExportTests : IDisposable
{
    private readonly TemporaryFolder temporary = new();
    private readonly ChapterRun run;
    private readonly string file;

    public ExportTests()
    {
        run = new ChapterRun(new ExperimentSettings { Epochs = 3, Contestants = "sgd,momentum,handwritten,adam" }, CPU);
        foreach (var _ in run.Train()) { }
        file = temporary["model.pt"];
        PyTorchExport.Write(file, run.NetOf(ContestantNames.Handwritten)!, ((TorchMomentum.Optimizers.MomentumSgd)run.OptimizerOf(ContestantNames.Handwritten)!), Nets(run));
    }

    private static List<(string Name, Model.Net Net)> Nets(ChapterRun run) => run.Names.Select(name => (name, run.NetOf(name)!)).ToList();

    public void Dispose()
    {
        run.Dispose();
        temporary.Dispose();
    }

    [Fact]
    public void The_file_reads_back_in_csharp_with_the_same_weights_and_pytorch_form_buffers()
    {
        var saved = PyTorchUnpickler.UnpickleStateDict(file);
        var model = (Hashtable)saved["model"]!;
        var parameters = run.NetOf(ContestantNames.Handwritten)!.named_parameters().ToList();
        Assert.Equal(parameters.Select(p => p.name).OrderBy(n => n), model.Keys.Cast<string>().OrderBy(n => n));
        foreach (var (name, parameter) in parameters)
            Assert.True(Quadratic.Bitwise([parameter], [(Tensor)model[name]!]), name);

        // Every contestant's net, by name.
        var nets = (Hashtable)saved["nets"]!;
        Assert.Equal(run.Names.Order(), nets.Keys.Cast<string>().Order());
        foreach (string name in run.Names)
            foreach (var (weight, parameter) in run.NetOf(name)!.named_parameters())
                Assert.True(Quadratic.Bitwise([parameter], [(Tensor)((Hashtable)nets[name]!)[weight]!]), $"{name} {weight}");

        var optimizer = (Hashtable)saved["optimizer"]!;
        var group = (Hashtable)((ArrayList)optimizer["param_groups"]!)[0]!;
        Assert.Equal(0.01, (double)group["lr"]!);
        Assert.Equal(0.8, (double)group["momentum"]!);
        var state = (Hashtable)optimizer["state"]!;
        for (int i = 0; i < parameters.Count; i++)
        {
            // The chapter's velocity is lr times PyTorch's buffer.
            var velocity = ((TorchMomentum.Optimizers.MomentumSgd)run.OptimizerOf(ContestantNames.Handwritten)!).MomentumBuffer(parameters[i].parameter)!;
            var buffer = (Tensor)((Hashtable)state[i]!)["momentum_buffer"]!;
            Assert.InRange((buffer * 0.01 - velocity).abs().max().item<float>(), 0, 1e-9);
        }
    }

    [Fact]
    [Trait("Category", PyTorchScripts.Trait)]
    public void PyTorch_loads_it_and_predicts_what_the_csharp_net_predicts()
    {
        using var output = JsonDocument.Parse(PyTorchScripts.Run("load_export.py", [file]));
        var inputs = output.RootElement.GetProperty("inputs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var predictions = output.RootElement.GetProperty("predictions").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(10, predictions.Length);
        Assert.Equal(4, output.RootElement.GetProperty("optimizer").GetProperty("buffers").GetInt32());

        using var x = tensor(inputs.Select(v => (float)v).ToArray()).unsqueeze(1);
        using var noGrad = no_grad();
        using var y = run.NetOf(ContestantNames.Handwritten)!.forward(x);
        var ours = y.data<float>().ToArray();
        for (int i = 0; i < 10; i++)
            Assert.True(Math.Abs(ours[i] - predictions[i]) <= 1e-6, $"input {inputs[i].ToString(CultureInfo.InvariantCulture)}: C# {ours[i]}, PyTorch {predictions[i]}");
        foreach (var net in output.RootElement.GetProperty("nets").EnumerateObject())
        {
            using var theirs = run.NetOf(net.Name)!.forward(x);
            var expected = theirs.data<float>().ToArray();
            var loaded = net.Value.EnumerateArray().Select(e => e.GetDouble()).ToArray();
            for (int i = 0; i < 10; i++) Assert.True(Math.Abs(expected[i] - loaded[i]) <= 1e-6, $"{net.Name}, input {i}");
        }
        Assert.Equal(run.Names.Order(), output.RootElement.GetProperty("nets").EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public void A_weight_that_is_not_a_finite_number_is_refused_and_no_file_is_written()
    {
        string other = temporary["nan.pt"];
        using (no_grad()) run.NetOf(ContestantNames.Handwritten)!.named_parameters().Single(p => p.name == "predict.bias").parameter.fill_(float.NaN);
        var error = Assert.Throws<InvalidOperationException>(() => PyTorchExport.Write(other, run.NetOf(ContestantNames.Handwritten)!, ((TorchMomentum.Optimizers.MomentumSgd)run.OptimizerOf(ContestantNames.Handwritten)!), Nets(run)));
        Assert.Contains("model['predict.bias'] holds values that are not finite numbers", error.Message);
        Assert.False(File.Exists(other));
        Assert.Single(Directory.GetFiles(temporary.Path)); // the constructor's model.pt, and no temporary file left
    }

    [Fact]
    public void A_buffer_that_is_not_a_finite_number_is_refused_and_no_file_is_written()
    {
        string other = temporary["inf.pt"];
        var hidden = run.NetOf(ContestantNames.Handwritten)!.named_parameters().Single(p => p.name == "hidden.weight").parameter;
        using (no_grad()) ((TorchMomentum.Optimizers.MomentumSgd)run.OptimizerOf(ContestantNames.Handwritten)!).MomentumBuffer(hidden)!.fill_(float.PositiveInfinity);
        var error = Assert.Throws<InvalidOperationException>(() => PyTorchExport.Write(other, run.NetOf(ContestantNames.Handwritten)!, ((TorchMomentum.Optimizers.MomentumSgd)run.OptimizerOf(ContestantNames.Handwritten)!), Nets(run)));
        Assert.Contains("the momentum buffer of hidden.weight holds values that are not finite numbers", error.Message);
        Assert.False(File.Exists(other));
    }
}
