using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Optimizers;

/// <summary>
/// The chapter's hand-written momentum method, <c>sgd_momentum(parameters, vs, lr, gamma)</c>
/// (section 5.5.1, step 2), kept as the teaching version: one velocity per parameter, updated in place.
/// </summary>
public sealed class ChapterMomentum : IDisposable
{
    private readonly Parameter[] parameters;
    private readonly Tensor[] velocities;

    /// <summary>Starts every velocity at zero, with its parameter's shape, dtype and device.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">The learning rate (the chapter's <c>lr</c>).</param>
    /// <param name="momentum">The momentum parameter (the chapter's <c>gamma</c>; 0.8 in its run).</param>
    public ChapterMomentum(IEnumerable<Parameter> parameters, double learningRate, double momentum)
    {
        this.parameters = parameters.ToArray();
        velocities = this.parameters.Select(p => zeros_like(p)).ToArray();
        LearningRate = learningRate;
        Momentum = momentum;
    }

    /// <summary>The learning rate <c>lr</c>.</summary>
    public double LearningRate { get; }

    /// <summary>The momentum parameter <c>gamma</c>.</summary>
    public double Momentum { get; }

    /// <summary>The velocities, one per parameter, in parameter order.</summary>
    public IReadOnlyList<Tensor> Velocities => velocities;

    /// <summary>
    /// One step, for each parameter p with gradient g and velocity v:
    /// <code>
    ///   v = gamma * v + lr * g
    ///   p = p - v
    /// </code>
    /// Written as the chapter writes it, product by product, so that the rounding is the chapter's
    /// (a fused <c>add_(g, alpha: lr)</c> may round differently). Parameters without a gradient are skipped.
    /// </summary>
    public void Step()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (int i = 0; i < parameters.Length; i++)
        {
            var grad = parameters[i].grad;
            if (grad is null) continue;
            velocities[i].copy_(Momentum * velocities[i] + LearningRate * grad);
            parameters[i].sub_(velocities[i]);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var v in velocities) v.Dispose();
    }
}
