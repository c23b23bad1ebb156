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
        Assert.Equal(kinds.Select(k => k.Name), ContestantNames.All);
        Assert.Equal(kinds.Count, kinds.Select(k => k.Name).Distinct().Count());
        Assert.All(kinds, k => Assert.Matches(new Regex("^#[0-9a-f]{6}$"), k.Color));
        Assert.Equal(kinds.Count, kinds.Select(k => k.Color).Distinct().Count());
        // The nets the chapter's program draws come in its order, net_SGD first; the others copy net_Momentum.
        Assert.Equal([ContestantNames.Sgd, ContestantNames.Momentum, ContestantNames.RmsProp, ContestantNames.Adam], ContestantKinds.DrawnInChapterOrder.Select(k => k.Name));
        Assert.Equal(Enumerable.Range(0, 4), ContestantKinds.DrawnInChapterOrder.Select(k => k.DrawOrder!.Value));
        // A checkpoint keeps a momentum buffer or averages, never both.
        Assert.All(kinds, k => Assert.False(k.KeepsMomentumBuffer && k.Averages.Count > 0, k.Name));
    }

    [Fact]
    public void An_unknown_name_is_said_as_such()
    {
        var e = Assert.Throws<ArgumentException>(() => ContestantKinds.Of("lion"));
        Assert.Contains("no contestant 'lion'", e.Message);
    }
}
