using System.Diagnostics;
using System.Globalization;
using System.Net;
using Spectre.Console;
using TorchMomentum.Cli.Explore;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Benchmarks;

/// <summary>
/// The explore server under load, on loopback in this process: the latency of the slider-driven endpoints as wrk
/// measures it (one connection dragging a slider, and 8 at once; <see cref="WrkLatency"/>) with the server's
/// garbage collections per 1,000 requests, and 8 trainings streamed at once, each checked complete and equal to the
/// same run trained alone.
/// </summary>
public static class ExploreLoad
{
    private const int Clients = 8;

    /// <summary>The endpoints a drag sends, at the page's defaults, one value moving as a slider moves it.</summary>
    private static readonly DraggedEndpoint Bowl = new("bowl", "/api/bowl", "\"lr=\" .. (0.01 + 0.003 * (i % 100)) .. \"&momentum=0.7&x=-8&y=2&iterations=100&s=10\"");
    private static readonly DraggedEndpoint Noise = new("noise", "/api/noise", "\"lr=\" .. (0.01 + 0.001 * (i % 100))");
    private static readonly DraggedEndpoint Velocity = new("velocity", "/api/velocity", "\"momentum=\" .. (0.5 + 0.004 * (i % 100))");
    private static readonly DraggedEndpoint RateMap = new("ratemap", "/api/ratemap", "\"s=\" .. (2 + (i % 100) / 10)");

    /// <summary>Runs the measurements and prints one table; returns 0 when every goal is met.</summary>
    public static async Task<int> RunAsync()
    {
        // As `torchmomentum explore` runs.
        set_num_threads(1);
        AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160); // the table's rows on one line each, in a log too
        if (WrkLatency.Find(out string? missing) is not { } wrk)
        {
            Console.Error.WriteLine($"explore benchmark: {missing}.");
            return 2;
        }
        await using var server = await ExploreServer.StartAsync(IPAddress.Loopback, 0, maxTrainings: Clients);
        var url = new Uri(server.Url);
        using var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(5) };

        // Warm-up: JIT and the first tensors of every endpoint.
        foreach (var endpoint in new[] { Bowl, Noise, Velocity, RateMap }) WrkLatency.Measure(wrk, url, endpoint, 1, seconds: 2);
        // Goals: a slider move answered within a frame or two (16 ms at 60 Hz) even in the slowest 1%.
        var rows = new List<(WrkFigures Figures, string Goal, bool Met)>();
        void Row(DraggedEndpoint endpoint, int connections, double? p50Goal, double p99Goal)
        {
            var f = WrkLatency.Measure(wrk, url, endpoint, connections);
            bool met = f.P99 <= p99Goal && (p50Goal is not { } p50 || f.P50 <= p50);
            rows.Add((f, (p50Goal is { } g ? $"p50 <= {g} ms, " : "") + $"p99 <= {p99Goal} ms", met));
        }
        Row(Bowl, 1, null, 8);
        Row(Bowl, Clients, null, 30);
        Row(Noise, 1, 16, 40);
        Row(Velocity, 1, 16, 40);
        Row(RateMap, 1, null, 40);

        // The same eight runs alone first (what train computes), then streamed all at once.
        var seeds = Enumerable.Range(1, Clients).ToArray();
        var expected = seeds.Select(Alone).ToArray();
        var clock = Stopwatch.StartNew();
        var streamed = await Task.WhenAll(seeds.Select(seed => Stream(client, seed)));
        double streamSeconds = clock.Elapsed.TotalSeconds;
        int complete = streamed.Count(s => s.Done);
        int equal = seeds.Count(i => streamed[i - 1].Lines.SequenceEqual(expected[i - 1]));
        bool loadMet = complete == Clients && equal == Clients;

        var table = new Table().Title($"explore under load: {Environment.ProcessorCount} cores, loopback, wrk -t1 -d12s against the server in this process")
            .AddColumns("figure", "measured", "GC per 1,000 requests (gen 0 / 1 / 2)", "goal", "met");
        foreach (var (f, goal, met) in rows)
            table.AddRow($"{f.Endpoint.Path}, {f.Connections} connection(s), {f.Requests} requests",
                $"p50 {f.P50:F2} ms, p90 {f.P90:F2} ms, p99 {f.P99:F2} ms, max {f.Max:F1} ms", f.CollectionsPerThousand, goal, met ? "[green]yes[/]" : "[red]no[/]");
        table.AddRow($"{Clients} trainings streamed at once (chapter's settings, seeds 1-{Clients})",
            $"{complete} of {Clients} complete, {equal} of {Clients} equal to the run alone, {streamed.Sum(s => s.Lines.Count)} steps in {streamSeconds:F1} s",
            "-", "all complete and equal", loadMet ? "[green]yes[/]" : "[red]no[/]");
        AnsiConsole.Write(table);
        return rows.All(r => r.Met) && loadMet ? 0 : 1;
    }

    /// <summary>The run trained alone, as the stream's data lines would carry its losses.</summary>
    private static List<string> Alone(int seed)
    {
        using var run = new ChapterRun(new ExperimentSettings { Seed = seed }, CPU);
        return run.Train().Select(s => $"{s.Step}:{string.Join(',', s.Losses.Select(l => l.ToString("R", CultureInfo.InvariantCulture)))}").ToList();
    }

    private static async Task<(List<string> Lines, bool Done)> Stream(HttpClient client, int seed)
    {
        using var response = await client.GetAsync($"api/train?seed={seed}", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        var lines = new List<string>();
        bool done = false;
        // A step's losses come as plain messages; the run's data, its fits and its end as named events.
        await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(await response.Content.ReadAsStreamAsync()).EnumerateAsync())
        {
            done |= item.EventType == "done";
            if (item.EventType != System.Net.ServerSentEvents.SseParser.EventTypeDefault) continue;
            using var json = System.Text.Json.JsonDocument.Parse(item.Data);
            var r = json.RootElement;
            lines.Add($"{r.GetProperty("step").GetInt32()}:{string.Join(',', new[] { "sgd", "momentum", "handwritten" }.Select(n => r.GetProperty(n).GetDouble().ToString("R", CultureInfo.InvariantCulture)))}");
        }
        return (lines, done);
    }
}
