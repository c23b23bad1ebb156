using TorchMomentum.Files;
using System.Collections;
using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// model.pt: the hand-written net and its optimizer state in PyTorch's own file format (a zip of a pickle
/// and raw tensor data, what torch.save writes), as a dict that PyTorch loads directly: <c>model</c>, the net's
/// state_dict (hidden.weight, hidden.bias, predict.weight, predict.bias), <c>optimizer</c>, a torch.optim.SGD
/// state_dict, and <c>nets</c>, every contestant's net's state_dict by contestant name. scripts/load_export.py
/// shows the Python side.
/// </summary>
public static class PyTorchExport
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "model.pt";

    /// <summary>Writes the net and optimizer, atomically.</summary>
    /// <exception cref="InvalidOperationException">A weight or buffer is infinite or NaN (nothing is written), or
    /// the optimizer's state cannot be had in PyTorch's form (see <see cref="MomentumSgd.PyTorchMomentumBuffer"/>).</exception>
    /// <param name="path">Where to write.</param>
    /// <param name="net">The hand-written net.</param>
    /// <param name="optimizer">Its optimizer.</param>
    /// <param name="contestants">Every contestant's net, by name, for the <c>nets</c> entry.</param>
    public static void Write(string path, Net net, MomentumSgd optimizer, IReadOnlyList<(string Name, Net Net)> contestants)
    {
        var parameters = net.named_parameters().ToList();
        var model = new Hashtable();
        var state = new Hashtable();
        var nets = new Hashtable();
        // Every tensor made here, named for the error message, disposed however this ends.
        var made = new List<(string Name, Tensor Tensor)>();
        try
        {
            // Copies: a fused optimizer's parameters are views into one buffer, and the format wants each tensor
            // to own its storage from offset 0.
            foreach (var (name, parameter) in parameters)
            {
                var copy = parameter.detach().cpu().clone();
                made.Add(($"model['{name}']", copy));
                model[name] = copy;
            }
            for (int i = 0; i < parameters.Count; i++)
            {
                if (optimizer.PyTorchMomentumBuffer(parameters[i].parameter) is not { } b) continue;
                var buffer = b.cpu();
                made.Add(($"the momentum buffer of {parameters[i].name}", b));
                if (!ReferenceEquals(buffer, b)) made.Add(($"the momentum buffer of {parameters[i].name}", buffer));
                state[i] = new Hashtable { ["momentum_buffer"] = buffer };
            }
            foreach (var (contestant, itsNet) in contestants)
            {
                var weights = new Hashtable();
                foreach (var (name, parameter) in itsNet.named_parameters())
                {
                    var copy = parameter.detach().cpu().clone();
                    made.Add(($"nets['{contestant}']['{name}']", copy));
                    weights[name] = copy;
                }
                nets[contestant] = weights;
            }
            // PyTorch would load a NaN or an infinity without a word and train on from it: no such file is written.
            foreach (var (name, tensor) in made)
            {
                using var finite = tensor.isfinite();
                using var all = finite.all();
                if (!all.item<bool>()) throw new InvalidOperationException($"{FileName}: {name} holds values that are not finite numbers; {FileName} was not written.");
            }

            var group = (MomentumSgd.Options)optimizer.ParamGroups.Cast<TorchSharp.Modules.ParamGroup>().Single().Options;
            var sgd = new Hashtable
            {
                ["state"] = state,
                ["param_groups"] = new ArrayList
                {
                    new Hashtable
                    {
                        ["lr"] = group.LearningRate!.Value,
                        ["momentum"] = group.momentum!.Value,
                        ["dampening"] = group.dampening!.Value,
                        ["weight_decay"] = group.weight_decay!.Value,
                        ["nesterov"] = group.nesterov!.Value,
                        ["maximize"] = group.maximize!.Value,
                        ["params"] = new ArrayList(Enumerable.Range(0, parameters.Count).ToArray()),
                    },
                },
            };
            AtomicFile.Write(path, stream => PyTorchPickler.PickleStateDict(stream, new Hashtable { ["model"] = model, ["optimizer"] = sgd, ["nets"] = nets }, leaveOpen: true));
        }
        finally
        {
            foreach (var (_, tensor) in made) tensor.Dispose();
        }
    }
}
