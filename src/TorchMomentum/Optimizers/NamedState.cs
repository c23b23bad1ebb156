using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Optimizers;

/// <summary>
/// A parameter's state in one of the momentum family's optimizers: tensors by the names its reference gives them
/// (QHM's <c>momentum_buffer</c>, schedule-free's <c>z</c>, <c>x</c> and <c>y</c>, ...), each null until the
/// parameter's first step, as PyTorch creates state lazily. The state owns its tensors.
/// </summary>
public sealed class NamedState : OptimizerState, IDisposable
{
    private readonly Dictionary<string, Tensor?> tensors;

    /// <summary>State for one parameter, with the fields <paramref name="names"/>, all empty.</summary>
    public NamedState(Parameter parameter, IReadOnlyList<string> names) : base(parameter)
    {
        Names = names;
        tensors = names.ToDictionary(n => n, _ => (Tensor?)null);
    }

    /// <summary>The fields, in the order they are saved.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The field <paramref name="name"/>; null before the parameter's first step.</summary>
    /// <exception cref="KeyNotFoundException">The optimizer keeps no field of that name.</exception>
    public Tensor? this[string name] => tensors[name];

    /// <summary>Puts <paramref name="tensor"/> (which the state then owns) in field <paramref name="name"/>, freeing the one it held.</summary>
    public void Put(string name, Tensor? tensor)
    {
        if (!tensors.TryGetValue(name, out var old)) throw new KeyNotFoundException($"no state field '{name}' (fields: {string.Join(", ", Names)})");
        if (ReferenceEquals(old, tensor)) return;
        old?.Dispose();
        tensors[name] = tensor;
    }

    /// <summary>A new field holding a copy of <paramref name="initial"/>, kept past the step's dispose scope.</summary>
    internal Tensor Start(string name, Tensor initial)
    {
        var t = initial.detach().clone().DetachFromDisposeScope();
        Put(name, t);
        return t;
    }

    /// <inheritdoc />
    public override void Initialize(OptimizerOptions options) { }

    /// <summary>Frees every field.</summary>
    public void Dispose()
    {
        foreach (var t in tensors.Values) t?.Dispose();
        foreach (var name in Names) tensors[name] = null;
    }

    /// <inheritdoc />
    public override void to(Device device)
    {
        foreach (var name in Names)
            if (tensors[name] is { } t && (t.device_type != device.type || t.device_index != device.index))
                Put(name, t.to(device).DetachFromDisposeScope());
    }

    /// <summary>Each field in order: whether it exists, then the tensor (TorchSharp's conditional-tensor format).</summary>
    public override void SaveStateDict(BinaryWriter writer)
    {
        foreach (var name in Names) SaveConditionalStateTensor(writer, tensors[name]);
    }

    /// <summary>Reads what <see cref="SaveStateDict"/> wrote, each tensor in the parameter's dtype and on its device.</summary>
    public override void LoadStateDict(BinaryReader reader)
    {
        foreach (var name in Names)
        {
            Tensor? loaded = null;
            LoadConditionalStateTensor(reader, ref loaded, _parameter.device);
            Put(name, loaded?.to(_parameter.dtype, _parameter.device, disposeAfter: true).DetachFromDisposeScope());
        }
    }

    /// <summary>Takes copies of another state's fields, so that two optimizers never share a tensor.</summary>
    /// <exception cref="ArgumentException">The other state has other fields.</exception>
    public override void LoadStateDict(OptimizerState source)
    {
        if (source is not NamedState other || !other.Names.SequenceEqual(Names))
            throw new ArgumentException($"the state to load has other fields than {string.Join(", ", Names)}", nameof(source));
        foreach (var name in Names)
            Put(name, other.tensors[name]?.to(_parameter.dtype, _parameter.device, copy: true).DetachFromDisposeScope());
    }

    /// <inheritdoc />
    public override bool ApproximatelyEquals(OptimizerState other) =>
        other is NamedState s && s.Names.SequenceEqual(Names) && Names.All(n =>
            tensors[n] is { } mine ? s.tensors[n] is { } theirs && mine.allclose(theirs) : s.tensors[n] is null);
}
