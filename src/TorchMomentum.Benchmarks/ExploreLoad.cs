using System.Diagnostics;
using System.Globalization;
using System.Net;
using Spectre.Console;
using TorchMomentum.Cli.Explore;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Benchmarks;

/// <summary>
/// The explore server under load, on loopback in this process: the latency of <c>/api/bowl</c> (100 iterations)
/// over 1,000 requests from one client dragging a slider (each request after the last answer) and from 8 concurrent
/// clients, and 8 trainings streamed at
/// once, each checked complete and equal to the same run trained alone. With EXPLORE_URL set, the requests go to
/// a server started separately (`torchmomentum explore --max-trainings 8`) instead, as a browser's would.
/// </summary>
public static class ExploreLoad
{
    private const int Clients = 8, Requests = 1000;

    /// <summary>Runs both measurements and prints one table; returns 0 when every goal is met.</summary>
    public static async Task<int> RunAsync()
    {
        // As `torchmomentum explore` runs.
        set_num_threads(1);
        await using var server = await ExploreServer.StartAsync(IPAddress.Loopback, 0, maxTrainings: Clients);
        using var client = new HttpClient { BaseAddress = new Uri(Environment.GetEnvironmentVariable("EXPLORE_URL") ?? server.Url), Timeout = TimeSpan.FromMinutes(5) };

        // Warm-up: JIT and the first tensors.
        for (int i = 0; i < 50; i++) await Bowl(client, i);
        var alone = await BowlLatencies(client, 1);
        var together = await BowlLatencies(client, Clients);

        // The same eight runs alone first (what train computes), then streamed all at once.
        var seeds = Enumerable.Range(1, Clients).ToArray();
        var expected = seeds.Select(Alone).ToArray();
        var clock = Stopwatch.StartNew();
        var streamed = await Task.WhenAll(seeds.Select(seed => Stream(client, seed)));
        double streamSeconds = clock.Elapsed.TotalSeconds;
        int complete = streamed.Count(s => s.Done);
        int equal = seeds.Count(i => streamed[i - 1].Lines.SequenceEqual(expected[i - 1]));

        // A slider move redraws within a frame or two (60 Hz): one client dragging, and 8 at once.
        bool aloneMet = alone.P99 <= 16, togetherMet = together.P99 <= 50, loadMet = complete == Clients && equal == Clients;
        var table = new Table().Title($"explore under load: {Environment.ProcessorCount} cores, loopback, server and clients in one process")
            .AddColumns("figure", "measured", "goal", "met");
        table.AddRow($"/api/bowl, 100 iterations: {Requests} requests, 1 client", alone.Text, "p99 <= 16 ms", aloneMet ? "[green]yes[/]" : "[red]no[/]");
        table.AddRow($"/api/bowl, 100 iterations: {Requests} requests, {Clients} clients", together.Text, "p99 <= 50 ms", togetherMet ? "[green]yes[/]" : "[red]no[/]");
        table.AddRow($"{Clients} trainings streamed at once (chapter's settings, seeds 1-{Clients})",
            $"{complete} of {Clients} complete, {equal} of {Clients} equal to the run alone, {streamed.Sum(s => s.Lines.Count)} steps in {streamSeconds:F1} s",
            "all complete and equal", loadMet ? "[green]yes[/]" : "[red]no[/]");
        AnsiConsole.Write(table);
        return aloneMet && togetherMet && loadMet ? 0 : 1;
    }

    // The latency of every request when `clients` clients each send theirs as soon as the last was answered.
    private static async Task<(double P99, string Text)> BowlLatencies(HttpClient client, int clients)
    {
        var latencies = new List<double>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            for (int i = c; i < Requests; i += clients)
            {
                var one = Stopwatch.StartNew();
                await Bowl(client, i);
                lock (latencies) latencies.Add(one.Elapsed.TotalMilliseconds);
            }
        })));
        double seconds = clock.Elapsed.TotalSeconds;
        latencies.Sort();
        double Percentile(double p) => latencies[(int)Math.Ceiling(p * latencies.Count) - 1];
        return (Percentile(0.99), $"p50 {Percentile(0.5):F1} ms, p99 {Percentile(0.99):F1} ms, max {latencies[^1]:F1} ms, {Requests / seconds:F0} requests/s");
    }

    private static async Task Bowl(HttpClient client, int i)
    {
        // A slider drag: the momentum moves a little with every request.
        string momentum = (0.5 + 0.4 * (i % 100) / 100.0).ToString(CultureInfo.InvariantCulture);
        using var response = await client.GetAsync($"api/bowl?lr=0.05&momentum={momentum}&x=-10&y=1.5&iterations=100&s=10");
        response.EnsureSuccessStatusCode();
        await response.Content.ReadAsByteArrayAsync();
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
