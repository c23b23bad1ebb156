using Microsoft.AspNetCore.Http;
using TorchMomentum.Cli.Output;
using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// <c>GET /api/velocity</c> (section 5.3, d2l's beta^t plot): how much the gradient k steps back counts in the
/// velocity, measured on <c>MomentumSgd</c> (<see cref="ConstantGradientVelocity.PastGradientWeights"/>), for the
/// momentum asked and the velocity command's few others (<see cref="ConstantGradientVelocity.ComparedMomenta"/>). The answer:
/// <c>{"k": [0, 1, ...], "momenta": [{"momentum", "weights", "sum"}]}</c>, where <c>sum</c> is what the weights of
/// every past gradient add up to, lr/(1 - momentum), the step a steady gradient builds (those sent, k &lt; steps, add
/// up to less: lr (1 - momentum^steps)/(1 - momentum)).
/// </summary>
public static class VelocityApi
{
    /// <summary>Answers one request.</summary>
    public static async Task<IResult> Handle(HttpRequest request)
    {
        var q = new QueryValues(request.Query);
        double lr = q.Number(ApiLimits.Velocity.Lr), momentum = q.Number(ApiLimits.Velocity.Momentum);
        int steps = q.Count(ApiLimits.Velocity.Steps);
        if (q.Error is not null) return q.BadRequest();

        var momenta = await CoreSlots.Run(() => ConstantGradientVelocity.ComparedMomenta(momentum).Select(m => new
        {
            momentum = m,
            weights = ConstantGradientVelocity.PastGradientWeights(lr, m, steps),
            sum = ConstantGradientVelocity.Limit(lr, m, g: 1),
        }).ToList(), request.HttpContext.RequestAborted);
        return Results.Json(new { k = Enumerable.Range(0, steps), momenta });
    }
}
