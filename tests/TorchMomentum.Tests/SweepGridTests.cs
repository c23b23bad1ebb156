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
        long[] seeds = [7, 9];
        int[] batches = [5, 32, 100];
        double[] noises = [0, 0.3];
        var grid = new SweepGrid { LrCount = 3, MomentumCount = 2, Seeds = seeds, BatchSizes = batches, LabelNoises = noises };
        var (rates, momenta) = (grid.LearningRates(), grid.Momenta());
        var cells = grid.Cells().ToArray();
        Assert.Equal(Enumerable.Range(0, 72), cells.Select(c => c.Id));
        foreach (var c in cells) // id = ((noise * 2 seeds + seed) * 3 batch sizes + batch) * 6 settings + momentum * 3 lrs + lr
            Assert.Equal((rates[c.Id % 3], momenta[c.Id / 3 % 2], batches[c.Id / 6 % 3], seeds[c.Id / 18 % 2], noises[c.Id / 36]),
                (c.Lr, c.Momentum, c.BatchSize, c.Seed, c.LabelNoise));
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
