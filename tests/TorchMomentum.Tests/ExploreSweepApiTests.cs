using System.Diagnostics;
using System.Net;
using System.Text.Json;
using TorchMomentum.Cli.Explore;
using TorchMomentum.Sweeps;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

/// <summary><c>GET /api/sweep</c>, on a real Kestrel on a free loopback port in this process.</summary>
public sealed class ExploreSweepApiTests : LoopbackExploreServer
{
    /// <summary>A sweep stream read to its end: its events as (name, data) in the order sent.</summary>
    private async Task<List<(string Name, JsonElement Data)>> Sweep(string query)
    {
        using var response = await client.GetAsync($"api/sweep?{query}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = await SseEvents.ReadAllAsync(response);
        Assert.DoesNotContain(events, e => e.Type == "message"); // every event of a sweep is named
        return events;
    }

    // Learning rates 0.01 to 4 reach where plain SGD diverges (lr 2 in the third epoch) and momentum 0.9 sooner;
    // two seeds make each point a median.
    private static readonly SweepGrid Small = new()
    {
        LrMin = 0.01, LrMax = 4, LrCount = 4, MomentumMin = 0, MomentumMax = 0.9, MomentumCount = 2, Seeds = [1, 2],
        Training = new ExperimentSettings { Epochs = 3 },
    };

    private const string SmallQuery = "lr-min=0.01&lr-max=4&lr-count=4&momentum-min=0&momentum-max=0.9&momentum-count=2&seeds=1,2&epochs=3";

    private static double?[][] Losses(JsonElement map) => map.GetProperty("loss").EnumerateArray()
        .Select(row => row.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? (double?)null : v.GetDouble()).ToArray()).ToArray();

    [Fact]
    public async Task A_sweep_streams_each_epochs_map_and_ends_with_the_numbers_of_sweep_training()
    {
        // The same grid trained here, with the map after each epoch as SweepMap takes it.
        var maps = new List<SweepMap>();
        var expected = SweepTraining.Train(Small, Shard.Whole, CPU, threads: 1, onEpoch: (_, sofar) => maps.Add(new SweepMap(Small, sofar())));
        Assert.Contains(expected, r => r.DivergedStep is not null);
        Assert.Contains(expected, r => r.DivergedStep is null);

        var events = await Sweep(SmallQuery);
        var mapEvents = events.Where(e => e.Name == "map").Select(e => e.Data).ToList();
        Assert.Equal(3, mapEvents.Count);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var map = mapEvents[epoch];
            Assert.Equal(epoch + 1, map.GetProperty("epoch").GetInt32());
            Assert.Equal(maps[epoch].Rates, map.GetProperty("lr").EnumerateArray().Select(v => v.GetDouble()));
            Assert.Equal(maps[epoch].Momenta, map.GetProperty("momentum").EnumerateArray().Select(v => v.GetDouble()));
            var losses = Losses(map);
            for (int m = 0; m < 2; m++)
                for (int l = 0; l < 4; l++)
                {
                    var point = maps[epoch].Points[m, l];
                    Assert.Equal(point.Diverged ? null : point.MedianLoss, losses[m][l]);
                    Assert.Equal(point.DivergedSeeds, map.GetProperty("diverged_seeds")[m][l].GetInt32());
                }
        }
        Assert.Contains(Losses(mapEvents[^1]).SelectMany(row => row), loss => loss is null);

        // Progress counts cell-steps up to the whole grid's, which it has reached before each map.
        long total = Small.CellCount * Small.Training.TotalSteps;
        var progress = events.Where(e => e.Name == "progress").Select(e => e.Data).ToList();
        Assert.All(progress, p => Assert.Equal(total, p.GetProperty("total").GetInt64()));
        Assert.Equal(progress.Select(p => p.GetProperty("cell_steps").GetInt64()).Order(), progress.Select(p => p.GetProperty("cell_steps").GetInt64()));
        for (int i = 0; i < events.Count; i++)
            if (events[i].Name == "map")
                Assert.Equal(total * events[i].Data.GetProperty("epoch").GetInt32() / 3, events[i - 1].Data.GetProperty("cell_steps").GetInt64());

        Assert.Equal("done", events[^1].Name);
        var cells = events[^1].Data.GetProperty("cells").EnumerateArray().ToList();
        Assert.Equal(expected.Count, cells.Count);
        for (int i = 0; i < cells.Count; i++)
        {
            Assert.Equal(expected[i].Cell.Lr, cells[i].GetProperty("lr").GetDouble());
            Assert.Equal(expected[i].Cell.Momentum, cells[i].GetProperty("momentum").GetDouble());
            Assert.Equal(expected[i].Cell.Seed, cells[i].GetProperty("seed").GetInt64());
            Assert.Equal(expected[i].EpochLosses, cells[i].GetProperty("epoch_losses").EnumerateArray().Select(v => v.GetDouble()));
            var diverged = cells[i].GetProperty("diverged_step");
            Assert.Equal(expected[i].DivergedStep, diverged.ValueKind == JsonValueKind.Null ? null : diverged.GetInt32());
        }
    }

    [Fact]
    public async Task A_one_cell_sweep_has_the_numbers_of_that_cell_in_a_larger_grid()
    {
        // What the page asks for plain SGD at a cell's effective learning rate: the cell alone trains as it does
        // among others (here lr 4, momentum 0, seed 2 of the small grid, which diverges).
        var inGrid = (await Sweep(SmallQuery))[^1].Data.GetProperty("cells").EnumerateArray()
            .Single(c => c.GetProperty("lr").GetDouble() == 4 && c.GetProperty("momentum").GetDouble() == 0 && c.GetProperty("seed").GetInt64() == 2);
        var alone = (await Sweep("lr-min=4&lr-max=4&lr-count=1&momentum-min=0&momentum-count=1&seeds=2&epochs=3"))[^1].Data.GetProperty("cells").EnumerateArray().Single();
        Assert.Equal(inGrid.GetRawText(), alone.GetRawText());
    }

    [Theory]
    [InlineData("lr-count=65", "lr-count must be a whole number in [1, 64] (got '65')")]
    [InlineData("momentum-count=0", "momentum-count must be a whole number in [1, 64] (got '0')")]
    [InlineData("lr-max=1000", "lr-max must be a number in [1E-06, 100] (got '1000')")]
    [InlineData("lr-min=0", "lr-min must be a number in [1E-06, 10] (got '0')")]
    [InlineData("lr-min=0.5&lr-max=0.1", "lr-min must be a number in [1E-06, 0.1] (got '0.5')")]
    [InlineData("momentum-max=1", "momentum-max must be a number in [0, 0.99] (got '1')")]
    [InlineData("momentum-min=0.5&momentum-max=0.4", "momentum-min must be a number in [0, 0.4] (got '0.5')")]
    [InlineData("epochs=51", "epochs must be a whole number in [1, 50] (got '51')")]
    [InlineData("engine=gpu", "engine must be fused or torch (got 'gpu')")]
    [InlineData("seeds=1,1", "seeds must be 1 to 8 distinct whole numbers in [0, 2147483647], comma-separated (got '1,1')")]
    [InlineData("seeds=1,x", "seeds must be 1 to 8 distinct whole numbers in [0, 2147483647], comma-separated (got '1,x')")]
    [InlineData("seeds=1,2,3,4,5,6,7,8,9", "seeds must be 1 to 8 distinct whole numbers in [0, 2147483647], comma-separated (got '1,2,3,4,5,6,7,8,9')")]
    [InlineData("lr-count=32&momentum-count=32&seeds=1,2", "lr-count x momentum-count x seeds must be at most 1024 cells (got 32 x 32 x 2 = 2048)")]
    public async Task Bad_input_is_a_400_naming_the_parameter_its_range_and_the_value(string query, string expected)
    {
        using var response = await client.GetAsync($"api/sweep?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(expected, json.RootElement.GetProperty("error").GetString());
    }

    /// <summary>Whether the server's one training slot is free: a one-cell sweep is answered, not refused with 429.</summary>
    private async Task<bool> SlotIsFree()
    {
        using var response = await client.GetAsync("api/sweep?lr-count=1&momentum-count=1&epochs=1");
        await response.Content.ReadAsStringAsync();
        return response.StatusCode == HttpStatusCode.OK;
    }

    [Trait("Category", "Slow")]
    [Fact]
    public async Task Closing_the_stream_stops_the_sweep()
    {
        // The largest sweep allowed, by the slower torch engine (the fused one ends it in a few tenths of a second,
        // before a close could land), once to its end, for how long it takes on this machine now.
        const string largest = "lr-count=32&momentum-count=32&epochs=50&engine=torch";
        var clock = Stopwatch.StartNew();
        Assert.Equal("done", (await Sweep(largest))[^1].Name);
        var whole = clock.Elapsed;

        var response = await client.GetAsync($"api/sweep?{largest}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("progress", await SseEvents.FirstTypeAsync(response));
        Assert.False(await SlotIsFree());
        response.Dispose();
        clock.Restart();
        while (!await SlotIsFree())
        {
            Assert.True(clock.Elapsed < whole / 2, $"the sweep still held its slot {clock.Elapsed.TotalSeconds:0.00} s after its stream closed (a whole one takes {whole.TotalSeconds:0.00} s)");
            await Task.Delay(10);
        }
    }
}
