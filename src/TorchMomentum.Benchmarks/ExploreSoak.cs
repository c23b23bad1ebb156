using System.Diagnostics;
using System.Net;
using Spectre.Console;
using TorchMomentum.Cli.Explore;
using static TorchSharp.torch;

namespace TorchMomentum.Benchmarks;

/// <summary>
/// The explore server's memory over a long, mixed use, in this process on loopback: 10,000 requests from two clients
/// at once, every endpoint at small settings (the sliders' answers, the limits, the page, a refused request, and now
/// and then a training, a sweep and a batch-size study streamed to the end), the process's RSS read every 500
/// requests. Goal: no growth over the last 5,000 (at most 16 MB, what the allocator's arenas move by).
/// </summary>
public static class ExploreSoak
{
    /// <summary>What the soak asks, in turn; request i takes Mix[i % Mix.Length].</summary>
    private static readonly string[] Mix =
    [
        "api/bowl?lr=0.05&momentum=0.7&iterations=100", "api/noise?lr=0.02", "api/velocity?momentum=0.8", "api/ratemap?s=5", "api/limits", "",
        "api/bowl?lr=-1", "api/noise?lr=0.03&runs=50", "api/train?epochs=1&samples=200", "api/sweep?lr-count=2&momentum-count=2&epochs=1",
    ];

    /// <summary>Every 100th request: a small held-out study, with its noisy quadratic model (about a second).</summary>
    private const string Study = "api/scaling?batch-sizes=10,100&lr-count=2&tune-seeds=1&eval-seeds=2&steps=20";

    /// <summary>Runs the soak and prints one table; returns 0 when the goal is met.</summary>
    public static async Task<int> RunAsync(int requests = 10_000)
    {
        set_num_threads(1); // as `torchmomentum explore` runs
        await using var server = await ExploreServer.StartAsync(IPAddress.Loopback, 0, maxTrainings: 2);
        using var client = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromMinutes(2) };
        var rss = new List<(int Done, long Bytes)>();
        int next = -1, done = 0, failed = 0;
        var clock = Stopwatch.StartNew();
        async Task Client()
        {
            for (int i = Interlocked.Increment(ref next); i < requests; i = Interlocked.Increment(ref next))
            {
                string path = i % 100 == 99 ? Study : Mix[i % Mix.Length];
                using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
                await response.Content.CopyToAsync(Stream.Null); // a stream is read to its end
                bool expected = path == "api/bowl?lr=-1" ? response.StatusCode == HttpStatusCode.BadRequest : response.IsSuccessStatusCode;
                if (!expected) Interlocked.Increment(ref failed);
                int count = Interlocked.Increment(ref done);
                if (count % 500 == 0)
                    lock (rss) rss.Add((count, Environment.WorkingSet));
            }
        }
        await Task.WhenAll(Client(), Client());
        double Mb(long bytes) => bytes / 1048576.0;
        var ordered = rss.OrderBy(r => r.Done).ToList();
        long at1000 = ordered.First(r => r.Done >= 1000).Bytes, half = ordered.First(r => r.Done >= requests / 2).Bytes, last = ordered[^1].Bytes;
        double growth = Mb(last - half);
        bool met = growth <= 16 && failed == 0;
        var table = new Table().Title($"explore soak: {requests:N0} mixed requests, 2 clients, {clock.Elapsed.TotalSeconds:F0} s, {Environment.ProcessorCount} cores")
            .AddColumns("figure", "measured", "goal", "met");
        table.AddRow("RSS after 1,000 / half / all requests", $"{Mb(at1000):F1} / {Mb(half):F1} / {Mb(last):F1} MB", "-", "-");
        table.AddRow("RSS every 500 requests", string.Join(" ", ordered.Select(r => $"{Mb(r.Bytes):F0}")), "-", "-");
        table.AddRow($"growth over the last {requests - requests / 2:N0} requests", $"{growth:+0.0;-0.0} MB", "<= 16 MB", met ? "[green]yes[/]" : "[red]no[/]");
        table.AddRow("answers not as expected", $"{failed}", "0", failed == 0 ? "[green]yes[/]" : "[red]no[/]");
        AnsiConsole.Write(table);
        return met ? 0 : 1;
    }
}
