using TorchSharp;
using TorchMomentum.Devices;
using TorchMomentum.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Theory;

/// <summary>One step of the velocity under a constant gradient.</summary>
/// <param name="Step">t, from 1.</param>
/// <param name="Velocity">v_t as the optimizer holds it.</param>
/// <param name="GeometricSum">lr*g*(1 - momentum^t)/(1 - momentum), the closed form.</param>
public sealed record VelocityStep(int Step, double Velocity, double GeometricSum);

/// <summary>
/// Section 5.3: under a constant gradient g the velocity grows as a geometric series,
/// v_t = momentum*v_{t-1} + lr*g = lr*g*(1 + momentum + ... + momentum^(t-1)), towards lr*g/(1 - momentum):
/// ten times lr*g for momentum 0.9.
/// </summary>
public static class ConstantGradientVelocity
{
    /// <summary>The momenta whose past-gradient weights are shown side by side: a few of d2l's and the chapter's, and <paramref name="asked"/>.</summary>
    public static double[] ComparedMomenta(double asked) => new[] { 0.5, 0.8, 0.9, 0.99, asked }.Distinct().Order().ToArray();

    /// <summary>The limit lr*g/(1 - momentum) of the velocity.</summary>
    public static double Limit(double lr, double momentum, double g) => lr * g / (1 - momentum);

    /// <summary>lr*g*(1 - momentum^t)/(1 - momentum), the velocity after t steps from v_0 = 0.</summary>
    public static double GeometricSum(double lr, double momentum, double g, int t) => lr * g * (1 - Math.Pow(momentum, t)) / (1 - momentum);

    /// <summary>
    /// How much the gradient k steps back counts in today's velocity: unrolling v_t = momentum*v_(t-1) + lr*g_t
    /// (section 5.3) gives v_t = lr*(g_t + momentum*g_(t-1) + momentum^2*g_(t-2) + ...), so lr*momentum^k. Their sum
    /// over all k is <see cref="Limit"/> with g = 1: d2l's plot of beta^t.
    /// </summary>
    public static double PastGradientWeight(double lr, double momentum, int k) => lr * Math.Pow(momentum, k);

    /// <summary>
    /// The weights <see cref="PastGradientWeight"/> says, measured: <see cref="MomentumSgd"/> (chapter form) is given
    /// one unit gradient and then zeros, and its velocity k steps after the unit one is the weight of a gradient k
    /// steps back. Returns them for k = 0 .. <paramref name="steps"/> - 1.
    /// </summary>
    public static double[] PastGradientWeights(double lr, double momentum, int steps)
    {
        var weights = new double[steps];
        // A unit gradient once, then none: what autograd gives for (1 * p).sum() and then (0 * p).sum().
        Measure(lr, momentum, steps, (k, grad) => grad.fill_(k == 0 ? Scalars.One : Scalars.Zero), (k, velocity) => weights[k] = velocity);
        return weights;
    }

    /// <summary>
    /// Runs <see cref="MomentumSgd"/> in the chapter's formulation (whose state is exactly v) on
    /// f(p) = g * p, whose gradient is g everywhere, and reads the velocity after each step.
    /// </summary>
    public static IReadOnlyList<VelocityStep> Run(double lr, double momentum, double g, int steps)
    {
        var result = new List<VelocityStep>(steps);
        using Scalar gradient = g;
        // g, added into a zeroed .grad as autograd adds the gradient of (g * p).sum() (so a -0 gradient is +0).
        Measure(lr, momentum, steps, (_, grad) => grad.fill_(gradient).add_(Scalars.Zero, Scalars.One),
            (t, velocity) => result.Add(new VelocityStep(t + 1, velocity, GeometricSum(lr, momentum, g, t + 1))));
        return result;
    }

    /// <summary>
    /// <paramref name="steps"/> steps of <see cref="MomentumSgd"/> (chapter form) on one float64 parameter, each with
    /// the gradient <paramref name="gradient"/> writes into its .grad in place, and the velocity after each; every
    /// tensor made once, as the explore page asks for these on every slider move.
    /// </summary>
    private static void Measure(double lr, double momentum, int steps, Action<int, Tensor> gradient, Action<int, double> velocity)
    {
        using var zero = zeros(1, dtype: ScalarType.Float64);
        using var p = new Parameter(zero);
        using (var initial = zeros_like(p)) p.grad = initial; // the parameter holds its own reference
        using var optimizer = new MomentumSgd([p], lr, momentum, formulation: MomentumFormulation.Chapter);
        Tensor? grad = null;
        try
        {
            for (int k = 0; k < steps; k++)
            {
                // The optimizer keeps the gradient in its flat buffer from the first step on: the same tensor every step after.
                if (k <= 1)
                {
                    grad?.Dispose();
                    grad = p.grad!;
                }
                using (no_grad()) gradient(k, grad!);
                optimizer.step();
                velocity(k, HostValues.Doubles(optimizer.MomentumBuffer(p)!)[0]);
            }
        }
        finally
        {
            grad?.Dispose();
        }
    }
}
