using System.Diagnostics;
using TorchMomentum.Training;

namespace TorchMomentum.Benchmarks;

/// <summary>
/// Figure d: the process's resident memory after 1,000, 20,000 and 100,000 steps of the chapter's loop, and
/// the number of live TorchSharp tensors. A tensor leaked per step (a few hundred bytes of native memory
/// each) would show as tens of MB and as a growing count.
/// </summary>
public static class MemoryProbe
{
    /// <summary>RSS in bytes and live tensors at one step.</summary>
    public readonly record struct Reading(int Step, long Rss, long LiveTensors);

    /// <summary>Runs 100,000 steps and reads memory at steps 1,000, 20,000 and 100,000.</summary>
    public static IReadOnlyList<Reading> Run()
    {
        var settings = new ExperimentSettings();
        using var loop = new OneNetLoop(settings);
        var readings = new List<Reading>();
        int step = 0;
        foreach (var _ in loop.Run(100_000 / settings.StepsPerEpoch))
            if (++step is 1_000 or 20_000 or 100_000) readings.Add(new Reading(step, Rss(), LiveTensors()));
        return readings;
    }

    /// <summary>Live TorchSharp tensors, by its own bookkeeping.</summary>
    internal static long LiveTensors()
    {
        var s = TorchSharp.DisposeScopeManager.Statistics.TensorStatistics;
        return s.CreatedInScopeCount + s.CreatedOutsideScopeCount - s.DisposedInScopeCount - s.DisposedOutsideScopeCount;
    }

    /// <summary>Resident memory after a full collection, so that only real growth remains.</summary>
    internal static long Rss()
    {
        // Let finalizers of any undisposed wrappers run, so that only real growth remains.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
