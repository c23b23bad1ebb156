using System.Text.RegularExpressions;
using TorchMomentum.Training;

namespace TorchMomentum.Tests;

/// <summary>The one table of contestants: every entry complete and distinct, and what reads it agrees with it.</summary>
public sealed class ContestantKindsTests
{
    [Fact]
    public void Every_kind_has_a_name_a_colour_and_a_net_of_its_own()
    {
        var kinds = ContestantKinds.All;
        Assert.Equal(kinds.Count, kinds.Select(k => k.Name).Distinct().Count());
        Assert.All(kinds, k => Assert.Matches(new Regex("^#[0-9a-f]{6}$"), k.Color));
        Assert.Equal(kinds.Count, kinds.Select(k => k.Color).Distinct().Count());
        // The nets the chapter's program draws come in its order, net_SGD first; the others copy net_Momentum.
        Assert.Equal([ContestantNames.Sgd, ContestantNames.Momentum, ContestantNames.RmsProp, ContestantNames.Adam], ContestantKinds.DrawnInChapterOrder.Select(k => k.Name));
        Assert.Equal(Enumerable.Range(0, 4), ContestantKinds.DrawnInChapterOrder.Select(k => k.DrawOrder!.Value));
        // A checkpoint keeps each piece of state under a name of its own, and every default is one the optimizer takes.
        Assert.All(kinds, k => Assert.Equal(k.Kept.Count, k.Kept.Select(f => f.Name).Distinct().Count()));
        Assert.All(kinds, k => k.Probe(new ExperimentSettings { Contestants = k.Name }));
    }

    [Fact]
    public void An_unknown_name_is_said_as_such()
    {
        var e = Assert.Throws<ArgumentException>(() => ContestantKinds.Of("sophia"));
        Assert.Contains("no contestant 'sophia'", e.Message);
    }
}
