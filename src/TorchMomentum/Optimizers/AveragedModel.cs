using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Optimizers;

/// <summary>
/// A running average of a model's weights, as PyTorch's <c>torch.optim.swa_utils.AveragedModel</c> keeps it: a
/// second module of the same architecture that holds the average a, updated after each optimizer step from the
/// model's parameters p. The first update copies the weights; the n-th after it (n = <see cref="NAveraged"/>):
/// <code>
///   a = decay * a + (1 - decay) * p        exponential (EMA), with a decay
///   a = a + (p - a) / (n + 1)              equal weights (SWA), without one
/// </code>
/// Evaluate <see cref="Module"/>; the model keeps training. Buffers are not averaged (PyTorch's use_buffers=False).
/// </summary>
public sealed class AveragedModel : IDisposable
{
    private readonly Parameter[] averaged;
    private readonly FactorCache factors = new();

    /// <summary>
    /// An average of <paramref name="model"/>'s weights, kept in <paramref name="average"/>, which must have the same
    /// parameters (names, shapes, dtypes): PyTorch deep-copies the model, TorchSharp has no generic copy, so the caller
    /// builds the module; its weights are overwritten with the model's now, as a deep copy's would be.
    /// </summary>
    /// <param name="model">The model being trained.</param>
    /// <param name="average">A module of the same architecture, to hold the average; this object does not own it.</param>
    /// <param name="decay">The EMA's decay in [0, 1); null for the equal-weight average (SWA).</param>
    /// <exception cref="ArgumentException">The decay is out of range, or the two modules' parameters differ.</exception>
    public AveragedModel(nn.Module model, nn.Module average, double? decay = null)
    {
        if (decay is { } d) ParameterGroups.Check("decay", new Validation.Interval(0, 1, MaxOpen: true), d);
        var own = model.named_parameters().ToArray();
        var copy = average.named_parameters().ToArray();
        if (own.Length != copy.Length || own.Zip(copy).Any(pair => pair.First.name != pair.Second.name
            || !pair.First.parameter.shape.SequenceEqual(pair.Second.parameter.shape) || pair.First.parameter.dtype != pair.Second.parameter.dtype))
            throw new ArgumentException("the average's module must have the model's parameters: the same names, shapes and dtypes", nameof(average));
        Decay = decay;
        Module = average;
        averaged = [.. copy.Select(p => p.parameter)];
        using var noGrad = no_grad();
        for (int i = 0; i < averaged.Length; i++) averaged[i].copy_(own[i].parameter);
    }

    /// <summary>The module that holds the average: evaluate this one.</summary>
    public nn.Module Module { get; }

    /// <summary>The EMA's decay; null for the equal-weight average.</summary>
    public double? Decay { get; }

    /// <summary>How many updates the average has taken (PyTorch's <c>n_averaged</c>); settable to restore a checkpoint.</summary>
    public long NAveraged { get; set; }

    /// <summary>The averaged parameters, in the model's order (to save or restore them).</summary>
    public IReadOnlyList<Parameter> Parameters => averaged;

    /// <summary>Takes <paramref name="model"/>'s weights into the average (after each optimizer step).</summary>
    /// <exception cref="ArgumentException">The model has another number of parameters.</exception>
    public void UpdateParameters(nn.Module model)
    {
        var current = model.parameters().ToArray();
        if (current.Length != averaged.Length) throw new ArgumentException($"the model has {current.Length} parameters; the average holds {averaged.Length}", nameof(model));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (int i = 0; i < averaged.Length; i++)
        {
            Tensor a = averaged[i], p = current[i].detach();
            if (NAveraged == 0) a.copy_(p);
            else if (Decay is { } decay) a.copy_(a.mul(factors.Of(decay, a)).add_(p.mul(factors.Of(1 - decay, a)), Scalars.One));
            else
                using (var count = tensor((double)(NAveraged + 1), a.dtype, a.device)) // changes every update: not a cached factor
                    a.copy_(a.add(p.sub(a).div(count), Scalars.One));
        }
        NAveraged++;
    }

    /// <summary>Frees the cached factors; the module is the caller's.</summary>
    public void Dispose() => factors.Dispose();
}
