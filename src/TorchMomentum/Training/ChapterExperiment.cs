using System.Diagnostics;
using TorchMomentum.Data;
using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchMomentum.Training;

/// <summary>
/// The chapter's comparison (section 5.6, with 5.5's hand-written step added): plain SGD, the built-in
/// SGD with momentum and the hand-written momentum optimizer in the chapter's formulation, each training
/// its own net on the same mini-batches in lockstep.
/// </summary>
public static class ChapterExperiment
{
    /// <summary>Column names of the three contestants, in order.</summary>
    public static readonly IReadOnlyList<string> Names = ["sgd", "momentum", "handwritten"];

    /// <summary>
    /// Runs the experiment. Seeds torch's global generator, so it must not run concurrently with
    /// anything else that draws from it.
    /// </summary>
    /// <param name="settings">Hyperparameters and sizes.</param>
    /// <param name="device">Where data, nets and optimizer state live.</param>
    /// <param name="onStep">Called after every step with the number of steps done.</param>
    public static ExperimentResult Run(ExperimentSettings settings, Device device, Action<int>? onStep = null)
    {
        // The draws happen in the chapter program's order: data, net_SGD, net_Momentum, then two
        // draws per epoch for the batch order. The hand-written net copies net_Momentum's weights.
        manual_seed(settings.Seed);
        var (x, y) = ChapterData.Generate(settings.Samples, device, settings.DType);
        using var _x = x;
        using var _y = y;
        using var sgdNet = Net.Build(settings.Hidden, settings.DType, device);
        using var momentumNet = Net.Build(settings.Hidden, settings.DType, device);
        using var handwrittenNet = momentumNet.Copy();

        using var sgd = optim.SGD(sgdNet.parameters(), settings.LearningRate);
        using var momentum = optim.SGD(momentumNet.parameters(), settings.LearningRate, settings.Momentum);
        using var handwritten = new MomentumSgd(handwrittenNet.parameters(), settings.LearningRate, settings.Momentum,
            formulation: MomentumFormulation.Chapter);
        Contestant[] contestants = [new(Names[0], sgdNet, sgd), new(Names[1], momentumNet, momentum), new(Names[2], handwrittenNet, handwritten)];

        var stepLosses = new List<double[]>(settings.Epochs * settings.StepsPerEpoch);
        var epochMeans = new List<double[]>(settings.Epochs);
        var sums = new double[contestants.Length];
        var clock = Stopwatch.StartNew();
        LockstepTraining.Run(x, y, settings, contestants, (step, batchSize, losses) =>
        {
            stepLosses.Add(losses);
            for (int i = 0; i < losses.Length; i++) sums[i] += losses[i] * batchSize;
            if ((step + 1) % settings.StepsPerEpoch == 0)
            {
                epochMeans.Add(sums.Select(s => s / settings.Samples).ToArray());
                Array.Clear(sums);
            }
            onStep?.Invoke(step + 1);
        });
        clock.Stop();

        return new ExperimentResult
        {
            Names = Names,
            StepLosses = stepLosses,
            EpochMeanLosses = epochMeans,
            MaxParameterDifference = Net.MaxDifference(handwrittenNet, momentumNet),
            TrainingTime = clock.Elapsed,
        };
    }
}
