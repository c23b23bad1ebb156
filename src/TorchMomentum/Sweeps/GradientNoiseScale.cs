using TorchMomentum.Model;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Sweeps;

/// <summary>Where a run first reached a target loss, and the gradient noise scale there.</summary>
/// <param name="Target">The full-data loss.</param>
/// <param name="Step">Steps taken when the full-data loss first was at or below it; null when never within the budget.</param>
/// <param name="NoiseScale">B_noise at that point; null when not reached.</param>
public sealed record NoiseScaleAt(double Target, int? Step, double? NoiseScale);

/// <summary>
/// McCandlish et al. 2018's simple gradient noise scale, B_noise = tr(Sigma) / |G|^2: G the full-data gradient,
/// Sigma the covariance of the per-example gradients. A batch of B samples has gradient noise tr(Sigma)/B, so B_noise
/// is the batch size at which noise and signal are equal: far below it a step is mostly noise and doubling the batch
/// halves the steps; far above it the step is the full gradient and a larger batch buys nothing. Their model of steps
/// against batch size, S(B) = S_min (1 + B_noise / B), puts the critical batch size near it.
/// </summary>
/// <remarks>
/// Per-example gradients of the chapter's net are cheap to write out (section 5.5.1's net): with e_i = f(x_i) - y_i,
/// sample i's gradient of e_i^2 is 2 e_i grad f(x_i), grad f being <see cref="NetMath.OutputGradient"/>. G is their
/// mean, tr(Sigma) their summed variance (with N - 1, as the samples are all there is).
/// </remarks>
public static class GradientNoiseScale
{
    /// <summary>B_noise of a net with these weights on these samples, in float64.</summary>
    public static double Of(NetWeights w, ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int n = x.Length, size = w.Count;
        if (n < 2) return double.NaN; // a variance over one sample does not exist
        var sum = new double[size];
        var gradient = new double[size];
        double sumOfSquares = 0;
        for (int i = 0; i < n; i++)
        {
            gradient.AsSpan().Clear();
            double r = 2 * (NetMath.OutputGradient(w, x[i], gradient) - y[i]);
            for (int k = 0; k < size; k++)
            {
                double g = r * gradient[k];
                sum[k] += g;
                sumOfSquares += g * g;
            }
        }
        double meanSquared = 0;
        foreach (double s in sum) meanSquared += (s / n) * (s / n);
        // sum_i |g_i - G|^2 = sum_i |g_i|^2 - n |G|^2.
        double traceSigma = (sumOfSquares - n * meanSquared) / (n - 1);
        return traceSigma / meanSquared;
    }

    /// <summary>
    /// Trains the momentum net of <c>train</c> with <paramref name="settings"/> (its lr and momentum; momentum 0 is
    /// plain SGD) for up to <paramref name="budget"/> steps, taking the full-data loss after every step, and measures
    /// B_noise where it first reaches each of <paramref name="grid"/>'s targets (above the run's noise floor when they are excesses).
    /// </summary>
    public static IReadOnlyList<NoiseScaleAt> AlongRun(ExperimentSettings settings, int budget, SweepGrid grid)
    {
        using var run = new ChapterRun(settings with { Epochs = Math.Max(1, (budget + settings.StepsPerEpoch - 1) / settings.StepsPerEpoch) }, CPU);
        var (x, y) = run.DataInFloat64();
        var targets = grid.TargetsAbove(Data.ChapterData.FloorOf(x, y));
        var full = new FullDataLoss(x, y);
        var net = run.MomentumNet;
        int hidden = settings.Hidden;
        var scratch = new double[2 * hidden];
        var found = new NoiseScaleAt?[targets.Length];
        foreach (var step in run.Train())
        {
            var weights = NetWeights.Of(net);
            var (w1, b1, w2, b2) = weights;
            double loss = full.Of(w1, b1, w2, b2, scratch);
            for (int t = 0; t < targets.Length; t++)
                if (found[t] is null && loss <= targets[t]) found[t] = new NoiseScaleAt(grid.TargetNames[t], step.Step + 1, Of(weights, x, y));
            if (step.Step + 1 >= budget || found.All(f => f is not null) || !double.IsFinite(loss)) break;
        }
        return [.. found.Select((f, t) => f ?? new NoiseScaleAt(grid.TargetNames[t], null, null))];
    }
}
