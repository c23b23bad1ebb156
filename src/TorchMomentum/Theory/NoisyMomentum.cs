using TorchMomentum.Devices;
using TorchSharp;
using TorchMomentum.Optimizers;
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
    public static IReadOnlyList<NoisyMethod> BesidePlainDescent(double lr, double momentum, double h, double sigma, double start, int runs, int iterations, long seed)
    {
        double[] momenta = [.. new[] { 0, momentum }.Distinct()];
        var simulated = Simulate(lr, momenta, h, sigma, start, runs, iterations, seed);
        return [.. momenta.Select((m, i) => new NoisyMethod(m, simulated[i], StationaryF(lr, m, h, sigma)))];
    }

    /// <summary>The runs of one momentum: <see cref="Simulate(double, IReadOnlyList{double}, double, double, double, int, int, long)"/> with one.</summary>
    public static NoisyRuns Simulate(double lr, double momentum, double h, double sigma, double start, int runs, int iterations, long seed) =>
        Simulate(lr, [momentum], h, sigma, start, runs, iterations, seed)[0];

    /// <summary>
    /// <paramref name="runs"/> noisy runs from x_0 = <paramref name="start"/> for each of <paramref name="momenta"/>:
    /// the gradient of f = h/2 x^2, h x (worked out by hand, as autograd works it out: (h/2) (2x) is h x to the bit),
    /// plus noise drawn by libtorch from a generator seeded with <paramref name="seed"/>, randn(runs) * sigma each
    /// iteration, and the chapter's step (<see cref="MomentumUpdate"/>'s scalar form, the arithmetic of
    /// <see cref="MomentumSgd"/>'s, like every other number of the theory commands). Every momentum sees the same
    /// noise, the draws a generator of that seed gives one momentum alone, so each is <see cref="MomentumSgd"/>'s runs
    /// of that momentum to the bit (a test holds it). Each iteration, f = h/2 x^2 of every run is summed up where it
    /// is: its mean over the runs, and the two order statistics the band needs, picked without sorting.
    /// </summary>
    /// <remarks>
    /// The explore page's Noise view asks for these runs on every slider move, 200 runs of 300 iterations for two
    /// momenta at its defaults. Ten libtorch calls an iteration and momentum (a few microseconds each on 200 numbers)
    /// and a sort of every iteration's f took 12 ms here; one call an iteration (the draw), a loop over the runs in
    /// place and the band below take 3.5 (docs/explore.md).
    /// </remarks>
    public static IReadOnlyList<NoisyRuns> Simulate(double lr, IReadOnlyList<double> momenta, double h, double sigma, double start, int runs, int iterations, long seed)
    {
        int rows = momenta.Count;
        using var generator = new Generator((ulong)seed);
        using var noise = empty(runs, dtype: ScalarType.Float64);
        var (x, velocity) = (new double[rows * runs], new double[rows * runs]);
        Array.Fill(x, start);
        var band = new Band(runs);
        var summed = Enumerable.Range(0, rows).Select(_ => new NoisyRuns(new double[iterations + 1], new double[iterations + 1], new double[iterations + 1])).ToArray();
        for (int t = 0; t <= iterations; t++)
        {
            if (t > 0)
            {
                var drawn = HostValues.Doubles(noise.normal_(generator: generator));
                for (int row = 0; row < rows; row++)
                    for (int r = 0, i = row * runs; r < runs; r++, i++)
                        MomentumUpdate.Chapter(ref x[i], ref velocity[i], x[i] * h + drawn[r] * sigma, momenta[row], lr); // each run's own gradient: the runs share nothing
            }
            for (int row = 0; row < rows; row++)
                band.Sum(x.AsSpan(row * runs, runs), h / 2, out summed[row].MeanF[t], out summed[row].LowF[t], out summed[row].HighF[t]);
        }
        return summed;
    }

    /// <summary>
    /// One iteration's f = h/2 x^2 over the runs (rounded as (x * x) * (h/2), as the tensor form h/2 * x.square() rounds
    /// it): the mean, added in the runs' order, and the 10th and 90th percentiles as the band draws them, the values at
    /// sorted positions floor(0.1 (n - 1)) and floor(0.9 (n - 1)). Each is the last of the few values at or before it
    /// (21 of 200 at the defaults), kept in order as they come; a value beyond that last one costs a comparison. A
    /// whole sort of every iteration took 4.6 ms of the view's 7, .NET's PriorityQueue 3.2; this about 2.
    /// </summary>
    private sealed class Band(int runs)
    {
        private readonly double[] smallest = new double[(int)(0.1 * (runs - 1)) + 1], largest = new double[runs - (int)(0.9 * (runs - 1))];

        public void Sum(ReadOnlySpan<double> x, double half, out double mean, out double low, out double high)
        {
            double sum = 0;
            int count = 0;
            foreach (double xi in x)
            {
                double f = xi * xi * half;
                sum += f;
                Keep(smallest, count, f, ascending: true);
                Keep(largest, count, f, ascending: false);
                count++;
            }
            (mean, low, high) = (sum / x.Length, smallest[^1], largest[^1]);
        }

        /// <summary>Puts f among the first <paramref name="seen"/> values' kept extremes, in order, if it belongs there.</summary>
        private static void Keep(double[] kept, int seen, double f, bool ascending)
        {
            int j = Math.Min(seen, kept.Length);
            if (j == kept.Length && !(ascending ? f < kept[^1] : f > kept[^1])) return;
            if (j == kept.Length) j--; // the last one leaves
            for (; j > 0 && (ascending ? kept[j - 1] > f : kept[j - 1] < f); j--) kept[j] = kept[j - 1];
            kept[j] = f;
        }
    }
}
