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
        using var response = await client.GetAsync("api/scaling?batch-sizes=2,1000&lr-count=3&tune-seeds=4&eval-seeds=5,6,7&label-noise=0.3&steps=200", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = await SseEvents.ReadAllAsync(response);
        // The stream: its size at once, progress that only grows, then the study, then the end.
        Assert.Equal(["progress", "study", "done"], events.TakeLast(3).Select(e => e.Type));
        var progress = events.Where(e => e.Type == "progress").Select(e => e.Data.GetProperty("cell_steps").GetInt64()).ToArray();
        Assert.Equal(0L, progress[0]);
        Assert.Equal(progress.Order(), progress);
        Assert.Equal(events[0].Data.GetProperty("total").GetInt64(), progress[^1]);
        var study = events[^2].Data;

        // The same study trained here: every cell's sustained steps to every target, and the held-out speed-up read off them.
        var grid = ScalingStudy.DefaultGrid with { BatchSizes = [2, 1000], LrCount = 3, Seeds = [4], EvalSeeds = [5, 6, 7], Studies = 1, Steps = 200,
            Training = ScalingStudy.DefaultGrid.Training with { LabelNoise = 0.3 } };
        var results = SweepTraining.Train(grid, Shard.Whole, CPU, threads: 1);
        for (int t = 0; t < grid.TargetNames.Count; t++)
            Assert.Equal(results.Select(r => r.SustainedSteps[t]),
                study.GetProperty("steps")[t].EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? (int?)null : v.GetInt32()));
        var expected = new ScalingStudy(grid, results);
        // Every row of the sustained measure, both families, every field, as the study read here has it (its bootstrap is seeded).
        var mine = expected.Rows.Where(r => r.Measure == Measure.Sustained).ToArray();
        var rows = study.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(grid.TargetNames.Count * 2 * 2, rows.Length);
        Assert.Equal(mine.Length, rows.Length);
        static double? F(double v) => double.IsFinite(v) ? v : null;
        static double? Read(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : e.GetDouble();
        foreach (var (r, row) in mine.Zip(rows))
        {
            Assert.Equal((r.Target, r.Family == Family.PlainSgd ? "sgd" : "momentum", r.BatchSize),
                (row.GetProperty("target").GetDouble(), row.GetProperty("family").GetString(), row.GetProperty("batch_size").GetInt32()));
            Assert.Equal([F(r.Steps), F(r.Lr), F(r.Momentum), F(r.SpeedUp), F(r.SpeedUpLow), F(r.SpeedUpHigh)],
                new[] { "steps", "lr", "momentum", "speed_up", "low", "high" }.Select(p => Read(row.GetProperty(p))));
            Assert.Equal(r.Verdict?.ToString().ToLowerInvariant(), row.GetProperty("verdict").GetString());
        }
        for (int t = 0; t < grid.TargetNames.Count; t++)
        {
            Assert.Equal(expected.CriticalBatchSize(0.3, Family.PlainSgd, grid.TargetNames[t]), Read(study.GetProperty("critical")[t].GetProperty("sgd")));
            Assert.Equal(expected.CriticalBatchSize(0.3, Family.Momentum, grid.TargetNames[t]), Read(study.GetProperty("critical")[t].GetProperty("momentum")));
        }
        Assert.Equal(0.3, study.GetProperty("label_noise").GetDouble());
        Assert.Contains(results, r => r.SustainedSteps.All(s => s is not null)); // the comparison is of steps, not of empty cells
    }

    [Theory]
    [InlineData("steps=0", "steps must be a whole number in [1, 1000] (got '0')")]
    [InlineData("batch-sizes=0,2", "batch-sizes must be 1 to 8 distinct whole numbers in [1, 1000], comma-separated (got '0,2')")]
    [InlineData("batch-sizes=1001", "batch-sizes must be 1 to 8 distinct whole numbers in [1, 1000], comma-separated (got '1001')")]
    [InlineData("label-noise=-0.1", "label-noise must be a number in [0, 1] (got '-0.1')")]
    [InlineData("label-noise=NaN", "label-noise must be a number in [0, 1] (got 'NaN')")]
    [InlineData("tune-seeds=1,2&eval-seeds=2,3", "tune-seeds and eval-seeds must not share a seed: a held-out seed chooses nothing (got 2 in both)")]
    [InlineData("lr-count=16&tune-seeds=1,2,3,4&eval-seeds=5,6,7,8,9,10,11,12&batch-sizes=1,2,3", "2 x lr-count x batch sizes x seeds (tuning and held-out) must be at most 1024 cells (got 1152)")]
    [InlineData("batch-sizes=1000,500&lr-count=16&steps=1000", "cells x steps x batch size, the samples the study would see, must be at most 1e8 (got 2.88e8)")]
    public async Task Bad_input_is_a_400_naming_the_parameter_its_range_and_the_value(string query, string expected)
    {
        using var response = await client.GetAsync($"api/scaling?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith(expected, json.RootElement.GetProperty("error").GetString());
    }
}
