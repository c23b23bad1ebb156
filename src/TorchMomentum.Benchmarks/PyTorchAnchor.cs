using System.Diagnostics;
using System.Text.Json;

namespace TorchMomentum.Benchmarks;

/// <summary>Runs scripts/bench_chapter.py with Debian's python3-torch, when it is there.</summary>
public static class PyTorchAnchor
{
    /// <summary>PyTorch's steps per second on the chapter workload, or null and why not.</summary>
    public static double? StepsPerSecond(int threads, out string? why)
    {
        why = null;
        string? script = FindScript();
        if (script is null || !File.Exists("/usr/bin/python3"))
        {
            why = "no /usr/bin/python3 or scripts/bench_chapter.py";
            return null;
        }
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("--threads");
        start.ArgumentList.Add(threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var python = Process.Start(start)!;
        var error = python.StandardError.ReadToEndAsync();
        string output = python.StandardOutput.ReadToEnd();
        python.WaitForExit();
        if (python.ExitCode != 0)
        {
            why = "PyTorch run failed (apt-get install python3-torch): " + error.Result.Trim().Split('\n').LastOrDefault();
            return null;
        }
        using var json = JsonDocument.Parse(output);
        return json.RootElement.GetProperty("steps_per_second").GetDouble();
    }

    private static string? FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "scripts", "bench_chapter.py");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
