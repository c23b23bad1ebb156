using System.Numerics;

namespace TorchMomentum.Theory;

/// <summary>One case of section 5.2's analysis: the eigenvalues and spectral radius of A, and the rate measured by iterating.</summary>
public sealed record RateRow(string Case, double H, double Lr, double Momentum, Complex First, Complex Second, double Rho, RateMeasurement Measured)
{
    /// <summary>Measured rate minus rho(A); null when no rate could be measured (see <see cref="RateMeasurement.Rate"/>).</summary>
    public double? Difference => Measured.Rate - Rho;

    /// <summary>Computes rho(A) and runs the iteration to measure the rate.</summary>
    public static RateRow Measure(string kind, double h, double lr, double momentum, int steps)
    {
        var (first, second) = HeavyBall.Eigenvalues(h, lr, momentum);
        return new RateRow(kind, h, lr, momentum, first, second, HeavyBall.SpectralRadius(h, lr, momentum),
            HeavyBall.MeasuredRate(HeavyBall.Iterate(h, lr, momentum, steps)));
    }
}
