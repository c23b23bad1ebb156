using System.Diagnostics;
using static TorchSharp.torch;

namespace TorchMomentum.Training;

/// <summary>The chapter's comparison run from start to finish in one call.</summary>
public static class ChapterExperiment
{
    /// <summary>
    /// Runs every epoch of a new <see cref="ChapterRun"/> (or until it diverges). Seeds torch's global
    /// generator, so it must not run concurrently with anything else that draws from it.
    /// </summary>
    /// <param name="settings">Hyperparameters and sizes.</param>
    /// <param name="device">Where data, nets and optimizer state live.</param>
    /// <param name="onStep">Called after every step with the number of steps done.</param>
    public static ExperimentResult Run(ExperimentSettings settings, Device device, Action<int>? onStep = null)
    {
        using var run = new ChapterRun(settings, device);
        var losses = new LossHistory(settings, ChapterRun.Names.Count);
        var clock = Stopwatch.StartNew();
        Divergence? divergence = null;
        while (!run.IsComplete && divergence is null)
        {
            divergence = run.TrainEpoch((step, _, stepLosses) =>
            {
                losses.Add(stepLosses);
                onStep?.Invoke(step + 1);
            });
        }
        return new ExperimentResult
        {
            Settings = settings,
            Losses = losses,
            MaxParameterDifference = run.MaxParameterDifference(),
            TrainingTime = clock.Elapsed,
            StepsTimed = losses.Steps,
            Divergence = divergence,
        };
    }
}
