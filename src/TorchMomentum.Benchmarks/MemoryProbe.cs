using System.Diagnostics;
using TorchMomentum.Data;
using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchMomentum.Training;
using static TorchSharp.torch;

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
        var settings = new ExperimentSettings { Epochs = 100_000 / new ExperimentSettings().StepsPerEpoch };
        manual_seed(settings.Seed);
        var (x, y) = ChapterData.Generate(settings.Samples, CPU, settings.DType);
        using var _x = x;
        using var _y = y;
        using var net = Net.Build(settings.Hidden, settings.DType, CPU);
        using var optimizer = new MomentumSgd(net.parameters(), settings.LearningRate, settings.Momentum);
        var readings = new List<Reading>();
        LockstepTraining.Run(x, y, settings, [new("momentum", net, optimizer)], (step, _, _) =>
        {
            if (step + 1 is 1_000 or 20_000 or 100_000) readings.Add(new Reading(step + 1, Rss(), LiveTensors()));
        });
        return readings;
    }

    private static long LiveTensors()
    {
        var s = TorchSharp.DisposeScopeManager.Statistics.TensorStatistics;
        return s.CreatedInScopeCount + s.CreatedOutsideScopeCount - s.DisposedInScopeCount - s.DisposedOutsideScopeCount;
    }

    private static long Rss()
    {
        // Let finalizers of any undisposed wrappers run, so that only real growth remains.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
