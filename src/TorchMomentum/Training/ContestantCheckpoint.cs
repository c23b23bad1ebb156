using TorchMomentum.Model;
using static TorchSharp.torch;

namespace TorchMomentum.Training;

/// <summary>
/// Each contestant's weights and state, to a checkpoint and back, bit for bit: the state is what its entry in
/// <see cref="ContestantKinds"/> lists (<see cref="ContestantKind.Kept"/>), so no optimizer is named here.
/// </summary>
internal static class ContestantCheckpoint
{
    /// <summary>What a checkpoint keeps of <paramref name="contestant"/>: a kept tensor field only once every parameter has it.</summary>
    public static ContestantState Save(Contestant contestant, double lastFiniteLoss)
    {
        var names = contestant.Net.named_parameters().Select(p => p.name).ToArray();
        var weights = contestant.Net.named_parameters().ToDictionary(p => p.name, p => Checkpoint.Save(p.parameter));
        var kept = ContestantKinds.Of(contestant.Name).Kept;
        var tensors = new Dictionary<string, IReadOnlyDictionary<string, SavedTensor>>();
        foreach (var field in kept.OfType<KeptTensors>())
        {
            var values = names.Select((_, j) => field.Get(contestant, j)).ToArray();
            if (values.All(v => v is not null))
                tensors[field.Name] = names.Select((name, j) => (name, j)).ToDictionary(p => p.name, p => Checkpoint.Save(values[p.j]!));
        }
        var numbers = kept.OfType<KeptNumber>().ToDictionary(n => n.Name, n => n.Get(contestant));
        return new ContestantState(contestant.Name, lastFiniteLoss, weights, tensors, numbers);
    }

    /// <summary>Puts a checkpoint's state into a freshly built contestant of the same kind (its fields checked by <see cref="Checkpoint.Read"/>).</summary>
    public static void Restore(Contestant contestant, ContestantState saved, Func<IReadOnlyDictionary<string, SavedTensor>, Dictionary<string, Tensor>> load)
    {
        var names = contestant.Net.named_parameters().Select(p => p.name).ToArray();
        var kept = ContestantKinds.Of(saved.Name).Kept;
        foreach (var field in kept.OfType<KeptTensors>())
        {
            if (!saved.Tensors.TryGetValue(field.Name, out var tensors)) continue;
            var loaded = load(tensors);
            for (int j = 0; j < names.Length; j++) field.Put(contestant, j, loaded[names[j]]);
        }
        foreach (var number in kept.OfType<KeptNumber>()) number.Set(contestant, saved.Numbers[number.Name]);
    }
}
