using TorchMomentum.Files;
using System.Collections;
using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// model.pt: the hand-written net and its optimizer state in PyTorch's own file format (a zip of a pickle
/// and raw tensor data, what torch.save writes), as a dict with two entries that PyTorch loads directly:
/// <c>model</c>, the net's state_dict (hidden.weight, hidden.bias, predict.weight, predict.bias), and
/// <c>optimizer</c>, a torch.optim.SGD state_dict. scripts/load_export.py shows the Python side.
/// </summary>
public static class PyTorchExport
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "model.pt";

    /// <summary>Writes the net and optimizer, atomically.</summary>
    public static void Write(string path, Net net, MomentumSgd optimizer)
    {
        var parameters = net.named_parameters().ToList();
        var model = new Hashtable();
        // Copies: a fused optimizer's parameters are views into one buffer, and the format wants each tensor
        // to own its storage from offset 0.
        foreach (var (name, parameter) in parameters) model[name] = parameter.detach().cpu().clone();

        var group = (MomentumSgd.Options)optimizer.ParamGroups.Cast<TorchSharp.Modules.ParamGroup>().Single().Options;
        double lr = group.LearningRate!.Value;
        var state = new Hashtable();
        for (int i = 0; i < parameters.Count; i++)
            if (optimizer.PyTorchMomentumBuffer(parameters[i].parameter) is { } b)
                state[i] = new Hashtable { ["momentum_buffer"] = b.cpu() };
        var sgd = new Hashtable
        {
            ["state"] = state,
            ["param_groups"] = new ArrayList
            {
                new Hashtable
                {
                    ["lr"] = lr,
                    ["momentum"] = group.momentum!.Value,
                    ["dampening"] = group.dampening!.Value,
                    ["weight_decay"] = group.weight_decay!.Value,
                    ["nesterov"] = group.nesterov!.Value,
                    ["maximize"] = group.maximize!.Value,
                    ["params"] = new ArrayList(Enumerable.Range(0, parameters.Count).ToArray()),
                },
            },
        };
        AtomicFile.Write(path, stream => PyTorchPickler.PickleStateDict(stream, new Hashtable { ["model"] = model, ["optimizer"] = sgd }, leaveOpen: true));
        foreach (var t in model.Values.Cast<Tensor>().Concat(state.Values.Cast<Hashtable>().Select(h => (Tensor)h["momentum_buffer"]!))) t.Dispose();
    }
}
