using System.Diagnostics;
using TorchMomentum.Data;
using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Benchmarks;

/// <summary>
/// Figure d: the process's resident memory after 1,000 and after 100,000 steps of the chapter's loop. A
/// tensor leaked per step (a few hundred bytes of native memory each) would show as tens of MB.
/// </summary>
public static class MemoryProbe
{
    /// <summary>Runs 100,000 steps and returns RSS in bytes at step 1,000 and at step 100,000.</summary>
    public static (long At1000, long At100000) Run()
    {
        var settings = new ExperimentSettings { Epochs = 100_000 / new ExperimentSettings().StepsPerEpoch };
        manual_seed(settings.Seed);
        var (x, y) = ChapterData.Generate(settings.Samples, CPU, settings.DType);
        using var _x = x;
        using var _y = y;
        using var net = Net.Build(settings.Hidden, settings.DType, CPU);
        using var optimizer = new MomentumSgd(net.parameters(), settings.LearningRate, settings.Momentum);
        long at1000 = 0, at100000 = 0;
        LockstepTraining.Run(x, y, settings, [new("momentum", net, optimizer)], (step, _, _) =>
        {
            if (step + 1 == 1_000) at1000 = Rss();
            if (step + 1 == 100_000) at100000 = Rss();
        });
        return (at1000, at100000);
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
