using Microsoft.AspNetCore.Http;
using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// <c>GET /api/noise</c> (Distill's stochastic gradients, on section 5.2's bowl): seeded noisy runs of
/// <c>MomentumSgd</c> on f = h/2 x^2 with h = 1 from x_0 = 5, the noise command's, for the momentum asked and for
/// plain gradient descent at the same lr, each gradient h*x plus Gaussian noise of standard deviation sigma
/// (<see cref="NoisyMomentum.Simulate"/>). The answer: <c>{"h", "start", "methods": [{"name", "momentum", "mean",
/// "low", "high", "floor"}]}</c>, per iteration the mean f over the runs and its 10th and 90th percentiles, and the
/// closed-form f the runs settle at (<see cref="NoisyMomentum.StationaryF"/>). With momentum 0 there is one method.
/// </summary>
public static class NoiseApi
{
    /// <summary>The bowl's curvature: f = x^2 / 2, as the noise command's default.</summary>
    public const double Curvature = 1;

    /// <summary>Where every run starts, as the noise command's default.</summary>
    public const double Start = 5;

    /// <summary>Answers one request.</summary>
    public static async Task<IResult> Handle(HttpRequest request)
    {
        var q = new QueryValues(request.Query);
        double lr = q.Number(ApiLimits.Noise.Lr), momentum = q.Number(ApiLimits.Noise.Momentum), sigma = q.Number(ApiLimits.Noise.Sigma);
        int runs = q.Count(ApiLimits.Noise.Runs), iterations = q.Count(ApiLimits.Noise.Iterations), seed = q.Count(ApiLimits.Noise.Seed);
        if (q.Error is not null) return q.BadRequest();

        // Every lr allowed settles: lr h <= 1 < 2 (1 + momentum), so every number is finite.
        var methods = await CoreSlots.Run(() => new[] { momentum, 0 }.Distinct().Select(m =>
        {
            var runsOf = NoisyMomentum.Simulate(lr, m, Curvature, sigma, Start, runs, iterations, seed);
            return new
            {
                name = m == 0 ? "gradient descent" : "momentum",
                momentum = m,
                mean = runsOf.MeanF,
                low = runsOf.LowF,
                high = runsOf.HighF,
                floor = NoisyMomentum.StationaryF(lr, m, Curvature, sigma),
            };
        }).ToList(), request.HttpContext.RequestAborted);
        return Results.Json(new { h = Curvature, start = Start, methods });
    }
}
