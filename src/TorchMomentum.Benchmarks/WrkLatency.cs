using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace TorchMomentum.Benchmarks;

/// <summary>One endpoint as a slider drags it: the query of the i-th request, as a Lua expression of wrk's counter i.</summary>
/// <param name="Name">What the table calls it.</param>
/// <param name="Path">The endpoint.</param>
/// <param name="Query">The query, a Lua string expression in i (the request's number), so that each request differs as a drag's do.</param>
public sealed record DraggedEndpoint(string Name, string Path, string Query);

/// <summary>What wrk measured of one endpoint at one number of connections, and the server's garbage collections meanwhile.</summary>
public sealed record WrkFigures(DraggedEndpoint Endpoint, int Connections, double P50, double P90, double P99, double Max, long Requests, int[] Collections)
{
    /// <summary>The server's collections of generation 0, 1 and 2 per 1,000 requests.</summary>
    public string CollectionsPerThousand => string.Join(" / ", Collections.Select(c => (c * 1000.0 / Math.Max(1, Requests)).ToString("0.0", CultureInfo.InvariantCulture)));
}

/// <summary>
/// Latency as Debian's wrk measures it (keep-alive connections, each sending its next request as soon as the last is
/// answered, 12 s, the percentiles of every request), against a server in this process, whose garbage collections
/// are counted meanwhile: the tail of a slider drag is mostly the collector's.
/// </summary>
public static class WrkLatency
{
    /// <summary>Where wrk is, or null and how to get it (installed with apt-get where this process is root).</summary>
    public static string? Find(out string? missing)
    {
        missing = null;
        const string wrk = "/usr/bin/wrk";
        if (File.Exists(wrk)) return wrk;
        if (Environment.UserName == "root" && Run("apt-get", "install -y -qq wrk") == 0 && File.Exists(wrk)) return wrk;
        missing = "needs Debian's wrk (apt-get install wrk)";
        return null;
    }

    /// <summary>Runs wrk against <paramref name="server"/> for <paramref name="seconds"/> s with <paramref name="connections"/> connections.</summary>
    public static WrkFigures Measure(string wrk, Uri server, DraggedEndpoint endpoint, int connections, int seconds = 12)
    {
        string script = Path.Combine(Path.GetTempPath(), $"torchmomentum-wrk-{Environment.ProcessId}-{endpoint.Name}.lua");
        File.WriteAllText(script, $$"""
            local i = 0
            request = function()
              i = i + 1
              return wrk.format("GET", "{{endpoint.Path}}?" .. {{endpoint.Query}})
            end
            """);
        try
        {
            GC.Collect();
            var before = Enumerable.Range(0, 3).Select(GC.CollectionCount).ToArray();
            var start = new ProcessStartInfo(wrk) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-t1", $"-c{connections}", $"-d{seconds}s", "--latency", "-s", script, server.ToString().TrimEnd('/') })
                start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            var collections = Enumerable.Range(0, 3).Select(g => GC.CollectionCount(g) - before[g]).ToArray();
            if (process.ExitCode != 0 || Regex.Match(output, @"Non-2xx or 3xx responses: (\d+)") is { Success: true } bad)
                throw new InvalidOperationException($"wrk against {endpoint.Path} failed or got errors:\n{output}");
            double Percentile(string p) => Milliseconds(Regex.Match(output, $@"^\s+{p}%\s+(\S+)", RegexOptions.Multiline).Groups[1].Value);
            double max = Milliseconds(Regex.Match(output, @"Latency\s+\S+\s+\S+\s+(\S+)").Groups[1].Value);
            long requests = long.Parse(Regex.Match(output, @"(\d+) requests in").Groups[1].Value, CultureInfo.InvariantCulture);
            return new WrkFigures(endpoint, connections, Percentile("50"), Percentile("90"), Percentile("99"), max, requests, collections);
        }
        finally
        {
            File.Delete(script);
        }
    }

    // wrk writes 850.00us, 1.23ms, 2.01s.
    private static double Milliseconds(string text)
    {
        var m = Regex.Match(text, @"^([\d.]+)(us|ms|s|m)$");
        if (!m.Success) throw new FormatException($"wrk's time '{text}'");
        double value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "us" => value / 1000, "ms" => value, "s" => value * 1000, _ => value * 60_000 };
    }

    private static int Run(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode;
    }
}
