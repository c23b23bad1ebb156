using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Spectre.Console;
using TorchMomentum.Cli.Explore;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Benchmarks;

/// <summary>
/// The explore server under load, on loopback in this process: the latency of the slider-driven endpoints as wrk
/// measures it (one connection dragging a slider, and 8 at once; <see cref="WrkLatency"/>) with the server's
/// garbage collections per 1,000 requests; for each streamed view (Train, Sweep, Batch size) the time from its request
/// to its first event, the moment its picture starts to move, over <see cref="FirstEvents"/> requests one after
/// another at its defaults; and 8 trainings streamed at once, each checked complete and equal to the same run trained
/// alone. Every view's goal is a frame: p50 within 16 ms, p99 within 40. Run it again with
/// <c>DOTNET_EnableAVX512=0</c> on an AVX-512 machine for the code an AVX2-only CPU runs; the title names the path.
/// </summary>
public static class ExploreLoad
{
    private const int Clients = 8, FirstEvents = 41;

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
        Row(Bowl, 1, 16, 8);
        Row(Bowl, Clients, null, 30);
        Row(Noise, 1, 16, 40);
        Row(Velocity, 1, 16, 40);
        Row(RateMap, 1, 16, 40);
        var streams = new List<(string View, double[] Sorted, int Refused, bool Met)>();
        // A dropped stream's connection is closed, not drained for reuse (which would keep its training running).
        using var dropping = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = url, Timeout = TimeSpan.FromMinutes(1) };
        foreach (var (view, path) in new[] { ("Train", "api/train"), ("Sweep", "api/sweep"), ("Batch size", "api/scaling") })
        {
            var refused = new StrongBox<int>();
            await FirstEvent(dropping, path, refused); // warm-up
            var sorted = new double[FirstEvents];
            for (int i = 0; i < FirstEvents; i++) sorted[i] = await FirstEvent(dropping, path, refused);
            Array.Sort(sorted);
            streams.Add((view, sorted, refused.Value, Percentile(sorted, 0.5) <= 16 && Percentile(sorted, 0.99) <= 40));
        }

        // The same eight runs alone first (what train computes), then streamed all at once.
        var seeds = Enumerable.Range(1, Clients).ToArray();
        var expected = seeds.Select(Alone).ToArray();
        var clock = Stopwatch.StartNew();
        var streamed = await Task.WhenAll(seeds.Select(seed => Stream(client, seed)));
        double streamSeconds = clock.Elapsed.TotalSeconds;
        int complete = streamed.Count(s => s.Done);
        int equal = seeds.Count(i => streamed[i - 1].Lines.SequenceEqual(expected[i - 1]));
        bool loadMet = complete == Clients && equal == Clients;

        var table = new Table().Title($"explore under load: {Environment.ProcessorCount} cores, loopback, wrk -t1 -d12s against the server in this process; the JIT's path: {TorchMomentum.Sweeps.FusedStep.Path}")
            .AddColumns("figure", "measured", "GC per 1,000 requests (gen 0 / 1 / 2)", "goal", "met");
        foreach (var (f, goal, met) in rows)
            table.AddRow($"{f.Endpoint.Path}, {f.Connections} connection(s), {f.Requests} requests",
                $"p50 {f.P50:F2} ms, p90 {f.P90:F2} ms, p99 {f.P99:F2} ms, max {f.Max:F1} ms", f.CollectionsPerThousand, goal, met ? "[green]yes[/]" : "[red]no[/]");
        foreach (var (view, sorted, refused, met) in streams)
            table.AddRow($"{view} view's first event, at its defaults, {FirstEvents} requests one after another",
                $"p50 {Percentile(sorted, 0.5):F2} ms, p99 {Percentile(sorted, 0.99):F2} ms, max {sorted[^1]:F1} ms ({refused} refused while the last one's slot was freed)", "-", "p50 <= 16 ms, p99 <= 40 ms", met ? "[green]yes[/]" : "[red]no[/]");
        table.AddRow($"{Clients} trainings streamed at once (chapter's settings, seeds 1-{Clients})",
            $"{complete} of {Clients} complete, {equal} of {Clients} equal to the run alone, {streamed.Sum(s => s.Lines.Count)} steps in {streamSeconds:F1} s",
            "-", "all complete and equal", loadMet ? "[green]yes[/]" : "[red]no[/]");
        AnsiConsole.Write(table);
        return rows.All(r => r.Met) && streams.All(s => s.Met) && loadMet ? 0 : 1;
    }

    /// <summary>The value at rank p of sorted values, the nearest rank (wrk's way): of 41, the 21st and the 41st.</summary>
    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    /// <summary>
    /// Milliseconds from a streamed view's request to its first event; then the request is dropped, which stops its
    /// work within a step. The server frees the slot when it sees the connection close, which may be after the next
    /// request arrives: a 429 then is waited out (20 ms) and counted in <paramref name="refused"/>, not timed.
    /// </summary>
    private static async Task<double> FirstEvent(HttpClient client, string path, StrongBox<int> refused)
    {
        while (true)
        {
            var clock = Stopwatch.StartNew();
            using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused.Value++;
                await Task.Delay(20);
                continue;
            }
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync();
            await foreach (var _ in System.Net.ServerSentEvents.SseParser.Create(body).EnumerateAsync()) break;
            return clock.Elapsed.TotalMilliseconds;
        }
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
