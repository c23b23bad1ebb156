using static TorchSharp.torch;

namespace TorchMomentum.Data;

/// <summary>
/// The chapter's toy regression data (section 5.5.1, step 3): <c>x = linspace(-1, 1)</c> as a column and
/// <c>y = x^2 + 0.1*eps</c> with <c>eps ~ N(0, 1)</c>; the label noise 0.1 is a knob (<c>--label-noise</c>), the
/// same draws scaled, so that the study can move between the regimes where noise or curvature limits the step.
/// </summary>
public static class ChapterData
{
    /// <summary>The standard deviation of the targets' noise, the chapter's 0.1 (the default label noise).</summary>
    public const double NoiseScale = 0.1;

    /// <summary>Largest label noise a run may have: far past the regime where noise limits every step (the curve's range is 1).</summary>
    public const double MaxLabelNoise = 100;

    /// <summary>
    /// The expected noise floor: the targets' noise variance, sigma^2 (0.01 at the chapter's 0.1). Even the true curve
    /// y = x^2 has this mean squared error on average, so a per-step MSE around it is as low as any net can go on data
    /// it has not memorised. A seed's own floor is <see cref="FloorOf"/>.
    /// </summary>
    public static double NoiseFloor(double labelNoise) => labelNoise * labelNoise;

    /// <summary>
    /// The noise floor of these samples: mean((y - x^2)^2), what the true curve scores on them (the drawn noise's
    /// own variance, near sigma^2). Targets of the batch-size study are excesses over it, so that every seed and
    /// every label noise is asked for the same distance above what no net can beat.
    /// </summary>
    public static double FloorOf(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += (y[i] - Curve(x[i])) * (y[i] - Curve(x[i]));
        return sum / x.Length;
    }

    /// <summary>The noiseless curve the targets follow, y = x^2: what <see cref="Generate"/> adds noise to, and what a fit is drawn against.</summary>
    public static double Curve(double x) => x * x;

    /// <summary>
    /// Draws the data from torch's global generator, exactly in the chapter's call order (linspace, then
    /// randn of x's size), so that after <c>torch.manual_seed(s)</c> it holds the same numbers as the
    /// chapter's PyTorch program. Always drawn on the CPU in float32, whatever the run's device and dtype,
    /// because that is what makes the numbers identical; then moved and converted.
    /// </summary>
    /// <param name="samples">Number of points (the chapter uses 1000).</param>
    /// <param name="device">Device the returned tensors live on.</param>
    /// <param name="dtype">Floating type the returned tensors have.</param>
    /// <param name="labelNoise">sigma in y = x^2 + sigma * eps: the chapter's 0.1 gives its bytes; 0 the noiseless curve (eps is drawn all the same).</param>
    /// <returns>Inputs <c>x</c> and targets <c>y</c>, both of shape [samples, 1].</returns>
    public static (Tensor X, Tensor Y) Generate(long samples, Device device, ScalarType dtype, double labelNoise = NoiseScale)
    {
        using var scope = NewDisposeScope();
        var x = linspace(-1, 1, samples, dtype: ScalarType.Float32).unsqueeze(1);
        var y = x.pow(2) + labelNoise * randn(x.shape, dtype: ScalarType.Float32);
        return (x.to(dtype, device).MoveToOuterDisposeScope(), y.to(dtype, device).MoveToOuterDisposeScope());
    }
}
