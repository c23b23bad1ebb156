using TorchMomentum.Training;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// How each contestant is drawn, the same in losses.png and on the explore page (which reads it from
/// /api/limits): a colour of matplotlib's tab10, as the chapter's figures have, and a dash for the copies that lie
/// on top of the momentum curve.
/// </summary>
public static class ContestantStyle
{
    /// <summary>Each contestant's colour, as #rrggbb.</summary>
    public static readonly IReadOnlyDictionary<string, string> Colors = new Dictionary<string, string>
    {
        [ContestantNames.Sgd] = "#ff7f0e",
        [ContestantNames.Momentum] = "#1f77b4",
        [ContestantNames.Handwritten] = "#2ca02c",
        [ContestantNames.Nesterov] = "#9467bd",
        [ContestantNames.RmsProp] = "#d62728",
        [ContestantNames.Adam] = "#8c564b",
        [ContestantNames.SgdEffective] = "#e377c2",
    };

    /// <summary>Whether the contestant's curve is dashed: the hand-written step lies on top of the built-in momentum one.</summary>
    public static bool Dashed(string name) => name == ContestantNames.Handwritten;
}
