using Microsoft.AspNetCore.Http;
using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// <c>GET /api/bowl</c> (sections 5.1, 5.4): a path over f(x, y) = x^2 + s*y^2 taken by <c>MomentumSgd</c> in
/// float64 (<see cref="QuadraticBowl.Path"/>), the same code as the quadratic command; momentum 0 is plain
/// gradient descent. With it, per eigen-direction (x: h = 2, y: h = 2s) the spectral radius rho(A) and the
/// rate the path really converges at. The answer: <c>{"points": [{"x", "y", "f"}], "diverged", "directions":
/// [{"axis", "h", "rho", "measured", "converged_within", "critical_momentum", "critical_root", "envelope"}]}</c>, where
/// <c>measured</c> is null when the path gave too few steps to measure a rate on, <c>converged_within</c> is the
/// iteration from which that coordinate is 0 (<see cref="RateMeasurement"/>), null when it never gets there,
/// <c>critical_momentum</c> is the direction's critical damping at this lr (<see cref="HeavyBall.CriticalMomentum"/>),
/// null from lr*h = 4 on where no momentum below 1 has one, <c>critical_root</c> the double root there
/// (<see cref="HeavyBall.CriticalRoot"/>: negative when the direction flips sign every step), and <c>envelope</c> the
/// error |e_0| rho^t it predicts (<see cref="HeavyBall.Envelope"/>), one per point sent.
/// </summary>
public static class BowlApi
{
    // A path is cut where it has clearly diverged, so every number sent is finite.
    private const double Diverged = 1e12;

    /// <summary>Answers one request.</summary>
    public static async Task<IResult> Handle(HttpRequest request)
    {
        var q = new QueryValues(request.Query);
        double lr = q.Number(ApiLimits.Bowl.Lr), momentum = q.Number(ApiLimits.Bowl.Momentum);
        double x = q.Number(ApiLimits.Bowl.X), y = q.Number(ApiLimits.Bowl.Y);
        int iterations = q.Count(ApiLimits.Bowl.Iterations);
        double s = q.Number(ApiLimits.Steepness);
        if (q.Error is not null) return q.BadRequest();

        var path = await CoreSlots.Run(() => QuadraticBowl.Path(x, y, lr, momentum, iterations, s), request.HttpContext.RequestAborted);
        int kept = path.TakeWhile(p => double.IsFinite(p.F) && p.F < Diverged).Count();
        var points = path.Take(kept).Select(p => new { x = p.X, y = p.Y, f = p.F }).ToList();
        var (hx, hy) = QuadraticBowl.Curvatures(s);
        return Results.Json(new
        {
            points,
            diverged = kept < path.Count,
            directions = new[] { Direction("x", hx, lr, momentum, path.Take(kept).Select(p => p.X).ToList()), Direction("y", hy, lr, momentum, path.Take(kept).Select(p => p.Y).ToList()) },
        });
    }

    // measured: the rate measured on the path's coordinate, or null when there were too few steps to measure on
    // (a path shorter than 4 iterations, or one that reached 0 sooner); converged_within: the first iteration
    // from which the coordinate is 0 (or below double's normal range), or null. A cut path is measured on the
    // steps kept, all finite. The envelope is as long as the path sent and finite (JSON has neither infinity nor NaN):
    // capped at 1e12, and 0 from a start of 0, where 0 * rho^t would give NaN once rho^t overflows.
    private static object Direction(string axis, double h, double lr, double momentum, IReadOnlyList<double> coordinates)
    {
        var measured = HeavyBall.MeasuredRate(coordinates);
        var envelope = HeavyBall.Envelope(coordinates[0], h, lr, momentum, coordinates.Count - 1).Select(e => double.IsNaN(e) ? 0 : Math.Min(e, Diverged));
        return new
        {
            axis, h, rho = HeavyBall.SpectralRadius(h, lr, momentum), measured = measured.Rate, converged_within = measured.ConvergedWithin,
            critical_momentum = HeavyBall.CriticalMomentum(h, lr) is var critical && critical < 1 ? critical : (double?)null,
            critical_root = HeavyBall.CriticalRoot(h, lr), envelope,
        };
    }
}
