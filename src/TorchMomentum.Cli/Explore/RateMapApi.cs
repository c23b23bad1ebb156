using Microsoft.AspNetCore.Http;
using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// <c>GET /api/ratemap</c> (section 5.2): rho(A) over the (lr*h, momentum) plane, where each cell's
/// eigenvalues are real, complex or diverging (rho &gt;= 1), the critical-damping curve between real and complex,
/// momentum = (1 - sqrt(lr*h))^2 (<see cref="HeavyBall.CriticalMomentum"/>), and Polyak's optimal lr and momentum
/// for the bowl's curvatures [2, 2s]. A fixed grid, so every request costs the same.
/// </summary>
public static class RateMapApi
{
    private const int Columns = 161, Rows = 100, CriticalPoints = 201;
    private const double MaxStep = 4, MaxMomentum = 0.99;

    /// <summary>Answers one request.</summary>
    public static IResult Handle(HttpRequest request)
    {
        var q = new QueryValues(request.Query);
        double s = q.Number(ApiLimits.Steepness);
        if (q.Error is not null) return q.BadRequest();

        var steps = Enumerable.Range(0, Columns).Select(i => MaxStep * i / (Columns - 1)).ToArray();
        var momenta = Enumerable.Range(0, Rows).Select(j => MaxMomentum * j / (Rows - 1)).ToArray();
        // lr*h is what A depends on: with h = 1 the column is lr*h itself.
        var rho = momenta.Select(m => steps.Select(a => HeavyBall.SpectralRadius(1, a, m)).ToArray()).ToArray();
        var kind = momenta.Select((m, j) => steps.Select((a, i) => Kind(rho[j][i], a, m)).ToArray()).ToArray();
        // The curve falls from 1 to 0 over lr*h in [0, 1], steepest at 0: its points are denser there.
        var criticalSteps = Enumerable.Range(0, CriticalPoints).Select(i => MaxStep * Math.Pow((double)i / (CriticalPoints - 1), 2)).ToArray();
        var (hx, hy) = QuadraticBowl.Curvatures(s);
        var (lr, momentum, rate) = HeavyBall.Optimal(hx, hy);
        var (gdLr, gdRate) = HeavyBall.OptimalGradientDescent(hx, hy);
        return Results.Json(new
        {
            lr_h = steps,
            momentum = momenta,
            rho,
            kind,
            kinds = new[] { "real", "complex", "diverges" },
            critical = new { lr_h = criticalSteps, momentum = criticalSteps.Select(a => HeavyBall.CriticalMomentum(1, a)) },
            curvatures = new[] { hx, hy },
            optimal = new { lr, momentum, rate },
            best_gd = new { lr = gdLr, rate = gdRate },
        });
    }

    private static int Kind(double rho, double lrH, double momentum)
    {
        if (rho >= 1) return 2;
        return HeavyBall.Eigenvalues(1, lrH, momentum).First.Imaginary != 0 ? 1 : 0;
    }
}
