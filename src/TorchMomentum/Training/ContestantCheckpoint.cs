using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;

namespace TorchMomentum.Training;

/// <summary>
/// The state of an adaptive optimizer (RMSprop, Adam) in a checkpoint: its step count and its running averages,
/// each by parameter name.
/// </summary>
/// <param name="Step">Steps taken (Adam's bias corrections depend on it).</param>
/// <param name="Averages">The averages its kind keeps (<see cref="ContestantKind.Averages"/>: RMSprop's <c>square_avg</c>,
/// Adam's <c>exp_avg</c> and <c>exp_avg_sq</c>): each a tensor per parameter name.</param>
public sealed record AdaptiveState(long Step, IReadOnlyDictionary<string, IReadOnlyDictionary<string, SavedTensor>> Averages);

/// <summary>Each contestant's weights and optimizer state, to a checkpoint and back, bit for bit.</summary>
internal static class ContestantCheckpoint
{
    /// <summary>What a checkpoint keeps of contestant <paramref name="name"/>.</summary>
    public static ContestantState Save(string name, double lastFiniteLoss, Net net, OptimizerHelper optimizer)
    {
        var parameters = net.named_parameters().ToArray();
        var weights = parameters.ToDictionary(p => p.name, p => Checkpoint.Save(p.parameter));
        var states = optimizer.state_dict().State; // the live states, not copies
        IReadOnlyDictionary<string, SavedTensor> ByName(IEnumerable<Tensor> tensors) =>
            parameters.Zip(tensors).ToDictionary(p => p.First.name, p => Checkpoint.Save(p.Second));
        if (ContestantKinds.Of(name).Averages is { Count: > 0 } kept)
            return new ContestantState(name, lastFiniteLoss, weights, null, new AdaptiveState(Step(states[0]),
                kept.ToDictionary(field => field.Key, field => ByName(states.Select(field.Value)))));
        var buffers = states.Select(MomentumSgd.BufferOf).ToArray();
        // Plain SGD keeps none; a momentum optimizer has none before its first step.
        return new ContestantState(name, lastFiniteLoss, weights, buffers.Any(b => b is null) ? null : ByName(buffers!));
    }

    /// <summary>Puts a checkpoint's optimizer state into a freshly built optimizer of the same contestant.</summary>
    public static void Restore(OptimizerHelper optimizer, Net net, ContestantState saved, Func<IReadOnlyDictionary<string, SavedTensor>, Dictionary<string, Tensor>> load)
    {
        var names = net.named_parameters().Select(p => p.name).ToArray();
        var states = optimizer.state_dict().State;
        if (saved.Adaptive is { } adaptive)
        {
            var averages = ContestantKinds.Of(saved.Name).Averages; // the fields Checkpoint.Read checked against it
            foreach (var (field, tensors) in adaptive.Averages)
            {
                var loaded = load(tensors);
                using (no_grad())
                    for (int j = 0; j < names.Length; j++) averages[field](states[j]).copy_(loaded[names[j]]);
                foreach (var t in loaded.Values) t.Dispose();
            }
            foreach (var state in states) SetStep(state, adaptive.Step);
        }
        else if (saved.MomentumBuffers is { } momentum)
        {
            var buffers = load(momentum);
            for (int j = 0; j < names.Length; j++) MomentumSgd.PutBuffer(states[j], buffers[names[j]]); // a fresh optimizer has none to free
        }
    }

    private static long Step(TorchSharp.Modules.OptimizerState state) => state switch
    {
        RMSProp.State s => s.step,
        Adam.State s => s.step,
        _ => 0,
    };

    private static void SetStep(TorchSharp.Modules.OptimizerState state, long step)
    {
        if (state is RMSProp.State r) r.step = step;
        else if (state is Adam.State a) a.step = step;
    }
}
