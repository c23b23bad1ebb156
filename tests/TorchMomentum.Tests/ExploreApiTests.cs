using System.Globalization;
using System.Net;
using System.Text.Json;
using TorchMomentum.Cli.Explore;

namespace TorchMomentum.Tests;

/// <summary>The explore server's API, on a real Kestrel on a free loopback port in this process.</summary>
public sealed class ExploreApiTests : LoopbackExploreServer
{
    private readonly TemporaryFolder temporary = new();

    protected override int MaxTrainings => 2;

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        temporary.Dispose();
    }

    private static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    [Theory]
    [InlineData(0.05, 0.6, "momentum", "10")]
    [InlineData(0.09, 0.0, "gd", "-10")]
    public async Task Bowl_points_are_the_quadratic_commands_iterates(double lr, double momentum, string method, string startX)
    {
        string folder = temporary["quadratic"];
        Assert.Equal(0, CliRunner.Run("quadratic", "--out", folder).Exit);
        var expected = File.ReadAllLines(Path.Combine(folder, "trajectories.csv")).Skip(1).Select(l => l.Split(','))
            .Where(f => f[0] == method && f[1] == startX).ToList();

        double y = Number(startX) / 10;
        using var json = JsonDocument.Parse(await client.GetStringAsync(
            $"api/bowl?lr={lr.ToString(CultureInfo.InvariantCulture)}&momentum={momentum.ToString(CultureInfo.InvariantCulture)}&x={startX}&y={y.ToString(CultureInfo.InvariantCulture)}&iterations=15"));
        var points = json.RootElement.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(expected.Count, points.Count);
        for (int i = 0; i < points.Count; i++)
        {
            Assert.Equal(Number(expected[i][4]), points[i].GetProperty("x").GetDouble());
            Assert.Equal(Number(expected[i][5]), points[i].GetProperty("y").GetDouble());
            Assert.Equal(Number(expected[i][6]), points[i].GetProperty("f").GetDouble());
        }
    }

    [Fact]
    public async Task Bowl_reports_rho_and_the_measured_rate_of_each_direction_and_cuts_a_diverging_path()
    {
        using var json = JsonDocument.Parse(await client.GetStringAsync("api/bowl?lr=0.05&momentum=0.6&iterations=200&s=10"));
        foreach (var direction in json.RootElement.GetProperty("directions").EnumerateArray())
            Assert.InRange(direction.GetProperty("measured").GetDouble() - direction.GetProperty("rho").GetDouble(), -0.01, 0.01);

        using var diverging = JsonDocument.Parse(await client.GetStringAsync("api/bowl?lr=0.2&momentum=0&iterations=1000&s=100"));
        Assert.True(diverging.RootElement.GetProperty("diverged").GetBoolean());
        Assert.All(diverging.RootElement.GetProperty("points").EnumerateArray(), p => Assert.InRange(p.GetProperty("f").GetDouble(), 0, 1e12));
    }

    [Trait("Category", "Slow")]
    [Fact]
    public async Task Every_iteration_count_of_the_pages_no_momentum_preset_is_answered_with_finite_rates()
    {
        // The page's "chapter" and "no momentum" presets: lr 0.05 makes the y direction's lr*h 1 (to the last bit),
        // so y falls below double's range within 20 steps, and any squares of it long before.
        var answers = await Task.WhenAll(Enumerable.Range(1, (int)ApiLimits.Bowl.Iterations.Range.Max).Chunk(250).Select(async chunk =>
        {
            var found = new List<(int Iterations, HttpStatusCode Status, string Body)>();
            foreach (int iterations in chunk)
            {
                using var response = await client.GetAsync($"api/bowl?lr=0.05&momentum=0&x=-10&y=1.5&iterations={iterations}&s=10");
                found.Add((iterations, response.StatusCode, await response.Content.ReadAsStringAsync()));
            }
            return found;
        }));
        foreach (var (iterations, status, body) in answers.SelectMany(a => a))
        {
            Assert.True(status == HttpStatusCode.OK, $"iterations={iterations}: HTTP {(int)status} '{body}'");
            using var json = JsonDocument.Parse(body);
            var y = json.RootElement.GetProperty("directions")[1];
            // Rates measured wherever there were 4 steps to measure on, and the step y got to 0 from 19 on.
            if (iterations >= 4) Assert.InRange(y.GetProperty("measured").GetDouble(), 0, 1e-15);
            Assert.Equal(iterations >= 19, y.GetProperty("converged_within").ValueKind == JsonValueKind.Number);
        }
    }

    [Fact]
    public async Task The_rate_map_marks_real_complex_and_diverging_regions_and_polyaks_optimum()
    {
        using var json = JsonDocument.Parse(await client.GetStringAsync("api/ratemap?s=10"));
        var root = json.RootElement;
        var kinds = root.GetProperty("kind").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(k => k.GetInt32())).ToHashSet();
        Assert.Equal([0, 1, 2], kinds.Order());
        Assert.Equal([2.0, 20.0], root.GetProperty("curvatures").EnumerateArray().Select(e => e.GetDouble()));
        // Polyak for curvatures [2, 20]: rate (sqrt(10) - 1) / (sqrt(10) + 1).
        Assert.Equal((Math.Sqrt(10) - 1) / (Math.Sqrt(10) + 1), root.GetProperty("optimal").GetProperty("rate").GetDouble(), 12);
    }

    /// <summary>Reads a train stream to its end: the steps' data objects, and the done event's data.</summary>
    private async Task<(List<JsonElement> Steps, JsonElement Done)> Train(string query)
    {
        using var response = await client.GetAsync($"api/train?{query}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = await SseEvents.ReadAllAsync(response);
        return (events.Where(e => e.Type == "message").Select(e => e.Data).ToList(), events.Single(e => e.Type == "done").Data);
    }

    [Theory]
    [InlineData("")]
    [InlineData("adam,nesterov,sgd-effective,rmsprop")]
    public async Task The_train_stream_is_trains_losses_csv_step_for_step(string contestants)
    {
        string folder = temporary["train"];
        string[] race = contestants == "" ? [] : ["--contestants", contestants];
        Assert.Equal(0, CliRunner.Run(["train", "--epochs", "3", "--lr", "0.02", "--seed", "7", .. race, "--out", folder]).Exit);
        var lines = File.ReadAllLines(Path.Combine(folder, "losses.csv"));
        string[] names = lines[0].Split(',')[2..];
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();

        var (steps, done) = await Train("epochs=3&lr=0.02&seed=7" + (contestants == "" ? "" : $"&contestants={contestants}"));
        Assert.Equal(rows.Count, steps.Count);
        Assert.Equal(rows.Count, done.GetProperty("steps").GetInt32());
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.Equal(int.Parse(rows[i][0], CultureInfo.InvariantCulture), steps[i].GetProperty("step").GetInt32());
            Assert.Equal(int.Parse(rows[i][1], CultureInfo.InvariantCulture), steps[i].GetProperty("epoch").GetInt32());
            Assert.Equal(names, steps[i].EnumerateObject().Select(p => p.Name).Skip(2));
            for (int c = 0; c < names.Length; c++) Assert.Equal(Number(rows[i][2 + c]), steps[i].GetProperty(names[c]).GetDouble());
        }
    }

    [Fact]
    public async Task The_train_stream_sends_each_nets_sharpness_as_curvature_measures_it()
    {
        using var response = await client.GetAsync("api/train?epochs=2&seed=1", HttpCompletionOption.ResponseHeadersRead);
        var events = await SseEvents.ReadAllAsync(response);
        var sharpness = events.Where(e => e.Type == "sharpness").Select(e => e.Data).ToList();
        // At the start and every ceil(64 / 50) = 2 steps: 1 + 32 events, the last after step 64.
        Assert.Equal(1 + 32, sharpness.Count);
        Assert.Equal(-1, sharpness[0].GetProperty("step").GetInt32());
        Assert.Equal(63, sharpness[^1].GetProperty("step").GetInt32());
        Assert.True(events.Single(e => e.Type == "done").Data.GetProperty("sharpness").GetBoolean());
        // The curvature command's numbers for the same run, at its start and after the last step.
        var measured = TorchMomentum.Curvature.CurvatureAlongRun.Measure(new TorchMomentum.Training.ExperimentSettings { Epochs = 2, Seed = 1 }, every: 64, top: 1).ToList();
        foreach (var (streamed, step) in new[] { (sharpness[0], 0), (sharpness[^1], 64) })
            foreach (var point in measured.Where(p => p.Step == step))
                Assert.Equal(point.LambdaMax, streamed.GetProperty(point.Contestant).GetDouble());
        Assert.Equal(9.9313589614854, sharpness[0].GetProperty("momentum").GetDouble(), 1e-7); // PyTorch's, seed 1's initial weights
    }

    [Fact]
    public async Task A_net_too_large_for_its_hessian_trains_without_sharpness_and_says_so()
    {
        using var response = await client.GetAsync("api/train?epochs=1&hidden=256&samples=1000&batch-size=500", HttpCompletionOption.ResponseHeadersRead);
        var events = await SseEvents.ReadAllAsync(response);
        Assert.DoesNotContain(events, e => e.Type == "sharpness");
        Assert.False(events.Single(e => e.Type == "done").Data.GetProperty("sharpness").GetBoolean());
    }

    [Fact]
    public async Task Two_trainings_with_one_seed_at_the_same_time_stream_identical_losses()
    {
        var alone = await Train("epochs=4&seed=3");
        var together = await Task.WhenAll(Train("epochs=4&seed=3"), Train("epochs=4&seed=3"));
        string Text(List<JsonElement> steps) => string.Join('\n', steps.Select(s => s.GetRawText()));
        Assert.Equal(Text(alone.Steps), Text(together[0].Steps));
        Assert.Equal(Text(alone.Steps), Text(together[1].Steps));
    }

    [Theory]
    [InlineData("api/bowl?lr=-1", "lr must be a number in [0, 1] (got '-1')")]
    [InlineData("api/bowl?momentm=0.9", "unknown parameter 'momentm': this request takes iterations, lr, momentum, s, x, y")]
    [InlineData("api/ratemap?s=10&steps=3", "unknown parameter 'steps': this request takes s")]
    [InlineData("api/noise?bogus=1", "unknown parameter 'bogus': this request takes iterations, lr, momentum, runs, seed, sigma")]
    [InlineData("api/velocity?bogus=1", "unknown parameter 'bogus': this request takes lr, momentum, steps")]
    [InlineData("api/train?epoch=2", "unknown parameter 'epoch': this request takes batch-size, contestants, epochs, hidden, lr, momentum, samples, seed")]
    [InlineData("api/sweep?seed=2", "unknown parameter 'seed': this request takes engine, epochs, lr-count, lr-max, lr-min, momentum-count, momentum-max, momentum-min, seeds")]
    [InlineData("api/scaling?seeds=1", "unknown parameter 'seeds': this request takes batch-sizes, engine, eval-seeds, label-noise, lr-count, steps, tune-seeds")]
    [InlineData("api/scaling?engine=gpu", "engine must be fused or torch (got 'gpu')")]
    [InlineData("api/bowl?momentum=1", "momentum must be a number in [0, 0.999] (got '1')")]
    [InlineData("api/bowl?iterations=100000", "iterations must be a whole number in [1, 1000] (got '100000')")]
    [InlineData("api/bowl?x=abc", "x must be a number in [-20, 20] (got 'abc')")]
    [InlineData("api/bowl?s=0", "s must be a number in [1, 100] (got '0')")]
    [InlineData("api/ratemap?s=1000", "s must be a number in [1, 100] (got '1000')")]
    [InlineData("api/noise?sigma=11", "sigma must be a number in [0, 10] (got '11')")]
    [InlineData("api/noise?lr=0", "lr must be a number in (0, 1] (got '0')")]
    [InlineData("api/noise?runs=1001", "runs must be a whole number in [1, 1000] (got '1001')")]
    [InlineData("api/noise?momentum=1", "momentum must be a number in [0, 0.999] (got '1')")]
    [InlineData("api/velocity?steps=501", "steps must be a whole number in [1, 500] (got '501')")]
    [InlineData("api/velocity?lr=x", "lr must be a number in (0, 1] (got 'x')")]
    [InlineData("api/train?epochs=1000", "epochs must be a whole number in [1, 100] (got '1000')")]
    [InlineData("api/train?samples=100&batch-size=101", "batch-size must be a whole number in [1, 100] (got '101')")]
    [InlineData("api/train?hidden=100000", "hidden must be a whole number in [1, 256] (got '100000')")]
    [InlineData("api/train?lr=NaN", "lr must be a number in [0, 1] (got 'NaN')")]
    [InlineData("api/train?contestants=sgd,sophia", "contestants must be distinct names from sgd|momentum|handwritten|nesterov|rmsprop|adam|sgd-effective|qhm|aggmo|accsgd|schedule-free|lion|ema|adamw, comma-separated (got 'sgd,sophia')")]
    [InlineData("api/train?contestants=adam,adam", "contestants must be distinct names from sgd|momentum|handwritten|nesterov|rmsprop|adam|sgd-effective|qhm|aggmo|accsgd|schedule-free|lion|ema|adamw, comma-separated (got 'adam,adam')")]
    public async Task Bad_input_is_a_400_naming_the_parameter_its_range_and_the_value(string query, string expected)
    {
        using var response = await client.GetAsync(query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(expected, json.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Past_the_cap_a_training_is_refused_with_429_and_closing_a_stream_frees_its_slot()
    {
        var streams = new List<HttpResponseMessage>();
        for (int i = 0; i < 2; i++)
        {
            var response = await client.GetAsync("api/train?epochs=100&samples=10000", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal("data", await SseEvents.FirstTypeAsync(response)); // the stream began: the run's data comes first
            streams.Add(response);
        }
        using (var refused = await client.GetAsync("api/train?epochs=1"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Contains("already running 2 trainings", await refused.Content.ReadAsStringAsync());
        }

        // Closed streams give their slots back within a step: two long trainings at once are taken again.
        foreach (var stream in streams) stream.Dispose();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (;;)
        {
            using var first = await client.GetAsync("api/train?epochs=100&samples=10000", HttpCompletionOption.ResponseHeadersRead);
            using var second = await client.GetAsync("api/train?epochs=100&samples=10000", HttpCompletionOption.ResponseHeadersRead);
            if (first.StatusCode == HttpStatusCode.OK && second.StatusCode == HttpStatusCode.OK) break;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the closed streams' slots were still taken after 20 s");
            await Task.Delay(20);
        }
    }
}
