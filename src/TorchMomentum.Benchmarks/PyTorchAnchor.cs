using System.Globalization;
using System.Text.Json;
using TorchMomentum.Shared;

namespace TorchMomentum.Benchmarks;

/// <summary>Runs scripts/bench_chapter.py with Debian's python3-torch, when it is there.</summary>
public static class PyTorchAnchor
{
    /// <summary>PyTorch's steps per second on the chapter workload, or null and why not.</summary>
    public static double? StepsPerSecond(int threads, out string? why)
    {
        why = PythonScripts.MissingPyTorch;
        if (why is not null) return null;
        var (exit, output, error) = PythonScripts.Run("bench_chapter.py", ["--threads", threads.ToString(CultureInfo.InvariantCulture)]);
        if (exit != 0)
        {
            why = "the PyTorch run failed: " + error.Trim().Split('\n').LastOrDefault();
            return null;
        }
        using var json = JsonDocument.Parse(output);
        return json.RootElement.GetProperty("steps_per_second").GetDouble();
    }
}
