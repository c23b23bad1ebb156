using TorchMomentum.Sweeps;

namespace TorchMomentum.Tests;

/// <summary>A grid's cells and its shards', made from their ids and counted without being made.</summary>
public sealed class SweepGridTests
{
    [Theory]
    [InlineData(3, 2, 2, 1)]
    [InlineData(5, 3, 1, 4)]
    [InlineData(7, 1, 3, 5)]
    [InlineData(2, 2, 1, 9)] // more shards than cells: some are empty
    public void A_shard_holds_the_cells_whose_id_mod_its_count_is_its_index(int lrs, int momenta, int seeds, int count)
    {
        var grid = new SweepGrid { LrCount = lrs, MomentumCount = momenta, Seeds = [.. Enumerable.Range(10, seeds).Select(s => (long)s)] };
        var all = grid.Cells().ToArray();
        Assert.Equal(grid.CellCount, all.Length);
        Assert.Equal(Enumerable.Range(0, all.Length), all.Select(c => c.Id));
        for (int index = 0; index < count; index++)
        {
            var shard = new Shard(index, count);
            var expected = all.Where(c => c.Id % count == index).ToArray();
            Assert.Equal(expected, grid.Cells(shard));
            Assert.Equal(expected.Length, grid.CellCountOf(shard));
        }
    }

    [Fact]
    public void A_cells_settings_follow_from_its_id()
    {
        var grid = new SweepGrid { LrCount = 3, MomentumCount = 2, Seeds = [7, 9] };
        var cell = grid.Cells().Single(c => c.Id == 10); // (seed 1 x 2 momenta + momentum 1) x 3 + lr 1
        Assert.Equal((grid.LearningRates()[1], grid.Momenta()[1], 9L), (cell.Lr, cell.Momentum, cell.Seed));
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void A_billion_cell_shard_is_counted_and_started_at_once()
    {
        var grid = new SweepGrid { LrCount = 4096, MomentumCount = 4096, Seeds = [.. Enumerable.Range(0, 127).Select(s => (long)s)] };
        var shard = new Shard(3, 1000);
        Assert.Equal((grid.CellCount - 3 + 999) / 1000, grid.CellCountOf(shard));
        Assert.Equal([3, 1003, 2003], grid.Cells(shard).Take(3).Select(c => c.Id));
    }
}
