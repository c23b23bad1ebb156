using TorchMomentum.Devices;
using TorchSharp;
using TorchMomentum.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Theory;

/// <summary>Many noisy runs, summed up per iteration.</summary>
/// <param name="MeanF">The mean of f over the runs, per iteration (0 is the start).</param>
/// <param name="LowF">The 10th percentile of f over the runs, per iteration.</param>
/// <param name="HighF">The 90th percentile of f over the runs, per iteration.</param>
public sealed record NoisyRuns(double[] MeanF, double[] LowF, double[] HighF);

/// <summary>One method's noisy runs and the f they settle at.</summary>
/// <param name="Momentum">The method's momentum; 0 is plain gradient descent.</param>
/// <param name="Runs">Its runs, summed up per iteration.</param>
/// <param name="Floor">The closed-form f they settle at, <see cref="NoisyMomentum.StationaryF"/>.</param>
public sealed record NoisyMethod(double Momentum, NoisyRuns Runs, double Floor);

/// <summary>
/// Momentum with noisy gradients (Distill's "Why Momentum Really Works", on stochastic gradients) on the
/// one-dimensional bowl f(x) = h/2 x^2 of section 5.2, each gradient h*x plus Gaussian noise of standard deviation
/// sigma. Momentum shortens the transient, but the runs settle at a noise floor that grows like lr/(1 - momentum).
/// </summary>
public static class NoisyMomentum
{
    /// <summary>The default curvature h of f = h/2 x^2, the noise command's and the explore page's.</summary>
    public const double DefaultCurvature = 1;

    /// <summary>The default start x_0 of every run, the noise command's and the explore page's.</summary>
    public const double DefaultStart = 5;

    /// <summary>
    /// The stationary variance of x. With a = lr*h and the chapter's step (v = m v + lr (h x + noise), x = x - v), x
    /// follows section 5.2's 2x2 recurrence plus noise, x_{t+1} = (1 + m - a) x_t - m x_{t-1} - lr noise_t: an AR(2)
    /// process with phi1 = 1 + m - a, phi2 = -m and innovations of variance lr^2 sigma^2, whose stationary variance is
    /// lr^2 sigma^2 (1 - phi2) / ((1 + phi2)((1 - phi2)^2 - phi1^2)). Here 1 - phi2 = 1 + m, 1 + phi2 = 1 - m and
    /// (1 + m)^2 - (1 + m - a)^2 = a (2(1 + m) - a), so
    /// <code>
    ///   Var x = lr sigma^2 (1 + m) / (h (1 - m) (2 (1 + m) - lr h))
    /// </code>
    /// It exists where the recurrence is stable, 0 &lt; lr h &lt; 2 (1 + m) (section 5.2), and grows like lr/(1 - m).
    /// </summary>
    public static double StationaryVariance(double lr, double momentum, double h, double sigma) =>
        lr * sigma * sigma * (1 + momentum) / (h * (1 - momentum) * (2 * (1 + momentum) - lr * h));

    /// <summary>The expected f the runs settle at: E[h/2 x^2] = h/2 Var x.</summary>
    public static double StationaryF(double lr, double momentum, double h, double sigma) => h / 2 * StationaryVariance(lr, momentum, h, sigma);

    /// <summary>Whether the runs settle at all: 0 &lt; lr h &lt; 2 (1 + momentum).</summary>
    public static bool Settles(double lr, double momentum, double h) => lr * h > 0 && lr * h < 2 * (1 + momentum);

    /// <summary>
    /// The lesson in one call: plain gradient descent's runs, then those of <paramref name="momentum"/> at the same lr
    /// with the same noise (one method when momentum is 0), each with its floor. What the noise command and the
    /// explore page's Noise view draw.
    /// </summary>
    public static IReadOnlyList<NoisyMethod> BesidePlainDescent(double lr, double momentum, double h, double sigma, double start, int runs, int iterations, long seed) =>
        new[] { 0, momentum }.Distinct().Select(m =>
            new NoisyMethod(m, Simulate(lr, m, h, sigma, start, runs, iterations, seed), StationaryF(lr, m, h, sigma))).ToList();

    /// <summary>
    /// <paramref name="runs"/> noisy runs from x_0 = <paramref name="start"/>, as one tensor: the gradient of
    /// f = h/2 x^2, h x, plus noise drawn from a generator seeded with <paramref name="seed"/>, and the step by
    /// <see cref="MomentumSgd"/> (chapter form), like every other number of the theory commands. The gradient is
    /// worked out by hand, as autograd works it out ((h/2) (2x), which is h x to the bit), and every step works in
    /// place in tensors made once: the explore page asks for these runs on every slider move. Each iteration's x of
    /// every run is kept, and turned into f and sorted for the band once, at the end.
    /// </summary>
    public static NoisyRuns Simulate(double lr, double momentum, double h, double sigma, double start, int runs, int iterations, long seed)
    {
        using var generator = new Generator((ulong)seed);
        using var starts = full(runs, start, dtype: ScalarType.Float64);
        using var x = new Parameter(starts);
        using (var zero = zeros_like(x)) x.grad = zero; // the parameter holds its own reference
        using var optimizer = new MomentumSgd([x], lr, momentum, formulation: MomentumFormulation.Chapter);
        using var noise = empty(runs, dtype: ScalarType.Float64);
        using var xs = empty(iterations + 1, runs, dtype: ScalarType.Float64); // every run's x, each iteration
        var kept = HostValues.Doubles(xs);
        using Scalar curvature = h, half = h / 2, spread = sigma;
        Tensor? grad = null;
        try
        {
            for (int t = 0; t <= iterations; t++)
            {
                if (t > 0)
                {
                    // The optimizer keeps the gradient in its flat buffer from the first step on: the same tensor every step after.
                    if (t <= 2)
                    {
                        grad?.Dispose();
                        grad = x.grad!;
                    }
                    using (no_grad())
                    {
                        grad!.copy_(x).mul_(curvature); // each run's own gradient h*x: the runs share nothing
                        grad.add_(noise.normal_(generator: generator).mul_(spread), Scalars.One); // as randn(runs) * sigma
                    }
                    optimizer.step();
                }
                HostValues.Doubles(x).CopyTo(kept.Slice(t * runs, runs));
            }
        }
        finally
        {
            grad?.Dispose();
        }
        var (mean, low, high) = (new double[iterations + 1], new double[iterations + 1], new double[iterations + 1]);
        using var f = xs.mul(xs).mul_(half); // f = h/2 x^2 as (h/2 * x.square()) rounds it (x.square() is x * x), every run and iteration at once
        using var sorted = f.sort(dim: 1).Values;
        var values = HostValues.Doubles(sorted);
        for (int t = 0; t <= iterations; t++)
        {
            int first = t * runs; // at most 1,001 x 1,000: a span's int index
            double sum = 0; // in order, as Enumerable.Average adds
            for (int r = 0; r < runs; r++) sum += values[first + r];
            (mean[t], low[t], high[t]) = (sum / runs, values[first + (int)(0.1 * (runs - 1))], values[first + (int)(0.9 * (runs - 1))]);
        }
        return new NoisyRuns(mean, low, high);
    }
}
