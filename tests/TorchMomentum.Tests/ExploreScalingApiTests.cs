using System.Net;
using System.Text.Json;
using TorchMomentum.Sweeps;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

/// <summary><c>GET /api/scaling</c>, on a real Kestrel on a free loopback port in this process.</summary>
public sealed class ExploreScalingApiTests : LoopbackExploreServer
{
    [Fact]
    public async Task A_study_streams_its_steps_to_targets_and_ends_with_the_numbers_of_sweep_training()
    {
        using var response = await client.GetAsync("api/scaling?batch-sizes=2,1000&lr-count=3&momentum-count=2&seeds=4&steps=200", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = await SseEvents.ReadAllAsync(response);
        Assert.Equal("done", events[^1].Type);
        var study = events.Last(e => e.Type == "study").Data;

        // The same study trained here: every cell's steps to every target, and the speed-up read off them.
        var grid = ScalingStudy.DefaultGrid with { BatchSizes = [2, 1000], LrCount = 3, MomentumCount = 2, Seeds = [4], Steps = 200 };
        var results = SweepTraining.Train(grid, Shard.Whole, CPU, threads: 1);
        for (int t = 0; t < grid.Targets.Count; t++)
            Assert.Equal(results.Select(r => r.StepsToTargets[t]),
                study.GetProperty("steps")[t].EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? (int?)null : v.GetInt32()));
        var expected = new ScalingStudy(grid, results);
        Assert.Equal(grid.Targets.Select(t => grid.CellBatchSizes.Select(b => expected.SpeedUp(b, t)).Select(v => double.IsFinite(v) ? v : (double?)null)),
            study.GetProperty("speed_up").EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? (double?)null : v.GetDouble())));
        Assert.Contains(results, r => r.StepsToTargets.All(s => s is not null)); // the comparison is of steps, not of empty cells
    }

    [Theory]
    [InlineData("steps=0", "steps must be a whole number in [1, 1000] (got '0')")]
    [InlineData("batch-sizes=0,2", "batch-sizes must be 1 to 8 distinct whole numbers in [1, 1000], comma-separated (got '0,2')")]
    [InlineData("batch-sizes=1001", "batch-sizes must be 1 to 8 distinct whole numbers in [1, 1000], comma-separated (got '1001')")]
    [InlineData("momentum-count=1", "momentum-count must be a whole number in [2, 8] (got '1')")]
    [InlineData("lr-count=16&momentum-count=8&seeds=1,2,3,4&batch-sizes=1,2,3", "lr-count x momentum-count x batch sizes x seeds must be at most 1024 cells (got 1536)")]
    [InlineData("batch-sizes=1000,500&lr-count=16&momentum-count=8&steps=1000", "cells x steps x batch size, the samples the study would see, must be at most 1e8 (got 1.92e8)")]
    public async Task Bad_input_is_a_400_naming_the_parameter_its_range_and_the_value(string query, string expected)
    {
        using var response = await client.GetAsync($"api/scaling?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith(expected, json.RootElement.GetProperty("error").GetString());
    }
}
