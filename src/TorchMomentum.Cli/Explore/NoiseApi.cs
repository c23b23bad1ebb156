using Microsoft.AspNetCore.Http;
using TorchMomentum.Cli.CommandLine;
using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// <c>GET /api/noise</c> (Distill's stochastic gradients, on section 5.2's bowl): the noise command's comparison
/// (<see cref="NoisyMomentum.BesidePlainDescent"/>) on f = h/2 x^2 with its default h and start: seeded noisy runs of
/// <c>MomentumSgd</c>, plain gradient descent's and those of the momentum asked at the same lr, each gradient h*x
/// plus Gaussian noise of standard deviation sigma. The answer: <c>{"h", "start", "methods": [{"name", "momentum",
/// "mean", "low", "high", "floor"}]}</c>, per iteration the mean f over the runs and its 10th and 90th percentiles,
/// and the closed-form f the runs settle at. With momentum 0 there is one method.
/// </summary>
public static class NoiseApi
{
    /// <summary>Answers one request.</summary>
    public static async Task<IResult> Handle(HttpRequest request)
    {
        var q = new QueryValues(request.Query);
        double lr = q.Number(ApiLimits.Noise.Lr), momentum = q.Number(ApiLimits.Noise.Momentum), sigma = q.Number(ApiLimits.Noise.Sigma);
        int runs = q.Count(ApiLimits.Noise.Runs), iterations = q.Count(ApiLimits.Noise.Iterations), seed = q.Count(ApiLimits.Noise.Seed);
        if (q.Error is not null) return q.BadRequest();

        // Every lr allowed settles: lr h <= 1 < 2 (1 + momentum), so every number is finite.
        var methods = await CoreSlots.Run(() => NoisyMomentum.BesidePlainDescent(lr, momentum, NoisyMomentum.DefaultCurvature, sigma, NoisyMomentum.DefaultStart, runs, iterations, seed),
            request.HttpContext.RequestAborted);
        return Results.Json(new
        {
            h = NoisyMomentum.DefaultCurvature,
            start = NoisyMomentum.DefaultStart,
            methods = methods.Select(m => new
            {
                name = m.Momentum == 0 ? "gradient descent" : "momentum",
                momentum = m.Momentum,
                mean = m.Runs.MeanF,
                low = m.Runs.LowF,
                high = m.Runs.HighF,
                floor = m.Floor,
            }),
        });
    }
}
