using System.Globalization;
using System.Net;
using System.Text.Json;
using TorchMomentum.Cli.Explore;

namespace TorchMomentum.Tests;

/// <summary>
/// No combination of values within the ranges <c>GET /api/limits</c> publishes is answered with a 500 or a
/// failed training: a grid over each parameter's edges, read from the server itself so it follows the limits.
/// </summary>
public sealed class ExploreRangeTests : IAsyncLifetime
{
    private ExploreServer server = null!;
    private HttpClient client = null!;
    private JsonElement limits;

    public async ValueTask InitializeAsync()
    {
        server = await ExploreServer.StartAsync(IPAddress.Loopback, 0, maxTrainings: 1);
        client = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromMinutes(2) };
        limits = JsonDocument.Parse(await client.GetStringAsync("api/limits")).RootElement;
    }

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        await server.DisposeAsync();
    }

    /// <summary>A parameter's smallest and largest allowed values (an open bound's nearest neighbour inside), and its default.</summary>
    private double[] Edges(string endpoint, string name)
    {
        var p = limits.GetProperty(endpoint).GetProperty(name);
        double min = p.GetProperty("min").GetDouble(), max = p.GetProperty("max").GetDouble();
        if (p.GetProperty("min_open").GetBoolean()) min = Math.BitIncrement(min);
        if (p.GetProperty("max_open").GetBoolean()) max = Math.BitDecrement(max);
        return [min, p.GetProperty("default").GetDouble(), max];
    }

    private double[] MinAndMax(string endpoint, string name) => [Edges(endpoint, name)[0], Edges(endpoint, name)[2]];

    private static string Query(IEnumerable<(string Name, double Value)> values) =>
        string.Join('&', values.Select(v => $"{v.Name}={v.Value.ToString("R", CultureInfo.InvariantCulture)}"));

    private static IEnumerable<IEnumerable<(string, double)>> Grid(IEnumerable<(string Name, double[] Values)> axes) =>
        axes.Aggregate(new[] { Enumerable.Empty<(string, double)>() }.AsEnumerable(),
            (rows, axis) => rows.SelectMany(row => axis.Values.Distinct().Select(v => row.Append((axis.Name, v)))));

    [Fact]
    public async Task The_limits_are_those_the_api_enforces()
    {
        // Every published edge of every parameter is where the API starts refusing: one step past it (an open end
        // itself) is a 400 that names the parameter. The page's sliders and inputs take their ranges from these.
        var missed = new List<string>();
        int tried = 0;
        foreach (var endpoint in new[] { "bowl", "ratemap", "noise", "velocity", "train", "sweep", "scaling" })
            foreach (var parameter in limits.GetProperty(endpoint).EnumerateObject())
            {
                var p = parameter.Value;
                if (p.GetProperty("max_values").GetInt32() > 1) continue; // a list: its own test
                bool whole = p.GetProperty("whole").GetBoolean();
                double min = p.GetProperty("min").GetDouble(), max = p.GetProperty("max").GetDouble();
                double Past(double end, bool open, int direction) =>
                    open ? end : whole ? end + direction : end + direction * Math.Max(Math.Abs(end) * 1e-9, double.Epsilon);
                foreach (double value in new[] { Past(min, p.GetProperty("min_open").GetBoolean(), -1), Past(max, p.GetProperty("max_open").GetBoolean(), +1) }.Where(double.IsFinite))
                {
                    tried++;
                    string shown = value.ToString("R", CultureInfo.InvariantCulture);
                    using var response = await client.GetAsync($"api/{endpoint}?{parameter.Name}={shown}");
                    string body = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode != HttpStatusCode.BadRequest || !body.Contains($"{parameter.Name} must be", StringComparison.Ordinal))
                        missed.Add($"{endpoint} {parameter.Name}={shown}: HTTP {(int)response.StatusCode} {body[..Math.Min(body.Length, 200)]}");
                }
            }
        Assert.True(missed.Count == 0, $"{missed.Count} of {tried} edges not enforced:\n{string.Join('\n', missed)}");
        Assert.True(tried > 40, $"only {tried} edges tried: the limits were not read");

        Assert.Equal(ApiLimits.Bowl.Iterations.Range.Max, limits.GetProperty("bowl").GetProperty("iterations").GetProperty("max").GetDouble());
        Assert.Equal(ApiLimits.Train.Epochs.Range.Max, limits.GetProperty("train").GetProperty("epochs").GetProperty("max").GetDouble());
        Assert.True(limits.GetProperty("train").GetProperty("momentum").GetProperty("max_open").GetBoolean());
        Assert.Equal("samples", limits.GetProperty("train").GetProperty("batch-size").GetProperty("at_most").GetString());
        Assert.Equal(["lr", "momentum", "x", "y", "iterations", "s"], limits.GetProperty("bowl").EnumerateObject().Select(p => p.Name));
        Assert.Equal(ApiLimits.Sweep.MaxCells, limits.GetProperty("sweep_max_cells").GetInt32());
        Assert.Equal(ApiLimits.Sweep.Seeds.MaxValues, limits.GetProperty("sweep").GetProperty("seeds").GetProperty("max_values").GetInt32());
        Assert.Equal("lr-max", limits.GetProperty("sweep").GetProperty("lr-min").GetProperty("at_most").GetString());
    }

    [Trait("Category", "Slow")]
    [Fact]
    public async Task Every_edge_of_every_bowl_parameter_is_answered_with_finite_numbers()
    {
        var axes = new[] { "lr", "momentum", "x", "y", "iterations", "s" }.Select(n => (n, Edges("bowl", n))).ToList();
        // Each parameter's min, default and max against the others' (3^6 = 729 requests), and the short paths too
        // few steps long to measure a rate on.
        var queries = Grid(axes).Select(Query)
            .Concat(Grid(axes.Select(a => a.n == "iterations" ? (a.n, new double[] { 2, 3, 4, 5 }) : a)).Select(Query)).Distinct().ToList();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(queries, new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (query, _) =>
        {
            using var response = await client.GetAsync($"api/bowl?{query}");
            string body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK) failures.Add($"{query}: HTTP {(int)response.StatusCode} '{body}'");
            else if (body.Contains("NaN", StringComparison.Ordinal) || body.Contains("Infinity", StringComparison.Ordinal)) failures.Add($"{query}: {body}");
        });
        Assert.True(failures.IsEmpty, $"{failures.Count} of {queries.Count}:\n{string.Join('\n', failures.Take(10))}");
    }

    [Fact]
    public async Task Every_edge_of_the_rate_maps_steepness_is_answered()
    {
        foreach (double s in Edges("ratemap", "s"))
        {
            using var response = await client.GetAsync($"api/ratemap?s={s.ToString("R", CultureInfo.InvariantCulture)}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Trait("Category", "Slow")]
    [Fact]
    public async Task Every_edge_of_every_train_parameter_trains_to_its_end()
    {
        // The edges of each, but few samples and epochs so that the 2^7 trainings stay short: the largest
        // samples, epochs and batch sizes are only more of the same steps.
        var axes = new (string Name, double[] Values)[]
        {
            ("lr", MinAndMax("train", "lr")),
            ("momentum", MinAndMax("train", "momentum")),
            ("samples", [1, 37]),
            ("epochs", [1, 2]),
            ("seed", MinAndMax("train", "seed")),
            ("hidden", MinAndMax("train", "hidden")),
        };
        foreach (var row in Grid(axes).Select(r => r.ToList()))
        {
            double samples = row.Single(v => v.Item1 == "samples").Item2;
            foreach (double batch in new[] { 1, samples })
            {
                string query = Query(row.Append(("batch-size", batch)));
                using var response = await client.GetAsync($"api/train?{query}");
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: HTTP {(int)response.StatusCode} '{await response.Content.ReadAsStringAsync()}'");
                var last = (await SseEvents.ReadAllAsync(response))[^1];
                Assert.True(last.Type == "done", $"{query}: ended with {last.Type}: {last.Data}");
            }
        }
    }

    [Fact]
    public async Task Every_edge_of_every_sweep_parameter_trains_to_its_end()
    {
        // Each range's ends against the others' (2^6 sweeps) with small counts: the largest counts and epochs are
        // only more of the same cells, and ExploreSweepApiTests runs the largest grid. A minimum may not pass its
        // maximum, so those pairs are left out.
        var axes = new (string Name, double[] Values)[]
        {
            ("lr-min", MinAndMax("sweep", "lr-min")),
            ("lr-max", MinAndMax("sweep", "lr-max")),
            ("lr-count", [1, 3]),
            ("momentum-min", MinAndMax("sweep", "momentum-min")),
            ("momentum-max", MinAndMax("sweep", "momentum-max")),
            ("momentum-count", [1, 3]),
        };
        double Value(IEnumerable<(string Name, double Value)> row, string name) => row.Single(v => v.Name == name).Value;
        foreach (var row in Grid(axes).Select(r => r.ToList()).Where(r => Value(r, "lr-min") <= Value(r, "lr-max") && Value(r, "momentum-min") <= Value(r, "momentum-max")))
        {
            string query = Query(row.Append(("epochs", 1))) + $"&seeds=0,{limits.GetProperty("sweep").GetProperty("seeds").GetProperty("max").GetDouble()}";
            using var response = await client.GetAsync($"api/sweep?{query}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: HTTP {(int)response.StatusCode} '{await response.Content.ReadAsStringAsync()}'");
            var last = (await SseEvents.ReadAllAsync(response))[^1];
            Assert.True(last.Type == "done", $"{query}: ended with {last.Type}: {last.Data}");
        }
    }

    [Trait("Category", "Slow")]
    [Fact]
    public async Task Every_edge_of_every_scaling_parameter_trains_to_its_end_or_is_refused_for_its_size()
    {
        // The study's ranges' ends against each other (2^4 studies), one tuning and one held-out seed. The ends may
        // together pass the study's caps on cells or on samples seen (a whole budget of batches of 1,000): that is a
        // 400 naming the cap, never a 500 or a training that fails.
        var axes = new (string Name, double[] Values)[]
        {
            ("batch-sizes", MinAndMax("scaling", "batch-sizes")),
            ("lr-count", MinAndMax("scaling", "lr-count")),
            ("label-noise", MinAndMax("scaling", "label-noise")),
            ("steps", MinAndMax("scaling", "steps")),
        };
        int trained = 0;
        foreach (var row in Grid(axes))
        {
            string query = Query(row) + "&tune-seeds=1&eval-seeds=101";
            using var response = await client.GetAsync($"api/scaling?{query}");
            string refusal = response.StatusCode == HttpStatusCode.BadRequest ? await response.Content.ReadAsStringAsync() : "";
            if (refusal.Contains("must be at most", StringComparison.Ordinal)) continue;
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: HTTP {(int)response.StatusCode} '{refusal}'");
            var events = await SseEvents.ReadAllAsync(response);
            Assert.True(events[^1].Type == "done", $"{query}: ended with {events[^1].Type}: {events[^1].Data}");
            Assert.Contains(events, e => e.Type == "study");
            trained++;
        }
        Assert.True(trained >= 8, $"only {trained} of 16 studies trained: the caps refused the rest");
    }
}
