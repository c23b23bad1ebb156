using Microsoft.AspNetCore.Http;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// <c>GET /api/limits</c>: every API parameter's range and default (<see cref="ApiLimits"/>), so that the page's
/// inputs allow what the server does and no more: <c>{"bowl": {"lr": {"min", "max", "min_open", "max_open",
/// "default", "whole", "at_most", "max_values"}, ...}, "ratemap": {...}, "noise": {...}, "velocity": {...}, "train": {...},
/// "sweep": {...}, "sweep_max_cells", "scaling": {...}, "scaling_max_cells"}</c>;
/// an open bound is itself not allowed, <c>at_most</c> names another parameter this one may not exceed (or is null),
/// <c>max_values</c> above 1 makes it a comma-separated list of that many values at most, <c>sweep_max_cells</c>
/// bounds lr-count x momentum-count x seeds, and <c>contestants</c> lists the names /api/train's
/// <c>contestants=</c> takes, its default and each contestant's colour; <c>noise_floor</c> is the targets' noise
/// variance, which the train view draws.
/// </summary>
public static class LimitsApi
{
    /// <summary>Answers one request.</summary>
    public static IResult Handle() => Results.Json(new Dictionary<string, object>
    {
        ["bowl"] = Describe(ApiLimits.Bowl.All),
        ["ratemap"] = Describe(ApiLimits.RateMap.All),
        ["noise"] = Describe(ApiLimits.Noise.All),
        ["velocity"] = Describe(ApiLimits.Velocity.All),
        ["train"] = Describe(ApiLimits.Train.All),
        ["sweep"] = Describe(ApiLimits.Sweep.All),
        ["sweep_max_cells"] = ApiLimits.Sweep.MaxCells,
        ["scaling"] = Describe(ApiLimits.Scaling.All),
        ["scaling_max_cells"] = ApiLimits.Scaling.MaxCells,
        // The loss no net can beat on average at the chapter's label noise, drawn on the train view's plot (ChapterData.NoiseFloor).
        ["noise_floor"] = Data.ChapterData.NoiseFloor(Data.ChapterData.NoiseScale),
        // The train view's contestants: every name, the default race, and each one's colour and dash (ContestantKinds, once).
        ["contestants"] = new
        {
            names = Training.ContestantNames.All,
            @default = Training.ContestantNames.Default,
            colors = Training.ContestantKinds.All.ToDictionary(k => k.Name, k => k.Color),
            dashed = Training.ContestantKinds.All.Where(k => k.Dashed).Select(k => k.Name),
        },
    });

    private static Dictionary<string, object> Describe(IEnumerable<ApiParameter> parameters) => parameters.ToDictionary(p => p.Name, object (p) => new
    {
        min = p.Range.Min,
        max = p.Range.Max,
        min_open = p.Range.MinOpen,
        max_open = p.Range.MaxOpen,
        @default = p.Default,
        whole = p.Whole,
        at_most = p.AtMost,
        max_values = p.MaxValues,
    });
}
