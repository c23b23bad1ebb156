using TorchMomentum.Data;
using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchMomentum.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Verification;

/// <summary>
/// Trains the chapter's net twice in lockstep, once with <see cref="MomentumSgd"/> and once with
/// TorchSharp's built-in SGD, from the same weights on the same batches, and measures after every step how
/// far parameters and momentum state have drifted apart.
/// </summary>
public static class OptimizerVerifier
{
    /// <summary>Runs one configuration. Seeds torch's global generator.</summary>
    /// <param name="verificationCase">Hyperparameters, formulation and dtype.</param>
    /// <param name="settings">Data size, batch size, epochs, learning rate and seed (its dtype is ignored).</param>
    /// <param name="device">Where to run.</param>
    public static VerificationResult Run(VerificationCase verificationCase, ExperimentSettings settings, Device device)
    {
        var c = verificationCase;
        manual_seed(settings.Seed);
        var (x, y) = ChapterData.Generate(settings.Samples, device, c.DType);
        using var _x = x;
        using var _y = y;
        using var builtInNet = Net.Build(settings.Hidden, c.DType, device);
        using var ourNet = builtInNet.Copy();
        using var builtIn = optim.SGD(builtInNet.parameters(), settings.LearningRate, c.Momentum, c.Dampening, c.WeightDecay, c.Nesterov, c.Maximize);
        using var ours = new MomentumSgd(ourNet.parameters(), settings.LearningRate, c.Momentum, c.Dampening, c.WeightDecay, c.Nesterov, c.Maximize, c.Formulation);
        var builtInSchedule = c.StepSchedule ? HalveEveryFourEpochs(builtIn, settings) : null;
        var ourSchedule = c.StepSchedule ? HalveEveryFourEpochs(ours, settings) : null;

        var ourParameters = ourNet.parameters().ToArray();
        var builtInParameters = builtInNet.parameters().ToArray();
        double maxParameter = 0, maxBuffer = 0;
        int steps = 0;
        // Gradient ascent on the MSE runs off to infinity; maximizing -MSE is the same training run.
        Func<Tensor, Tensor, Tensor>? objective = c.Maximize ? (output, target) => -nn.functional.mse_loss(output, target) : null;
        Contestant[] contestants = [new("ours", ourNet, ours, ourSchedule), new("built-in", builtInNet, builtIn, builtInSchedule)];
        foreach (var _ in LockstepTraining.Run(x, y, settings.BatchSize, settings.Epochs, contestants, objective))
        {
            steps++;
            maxParameter = Math.Max(maxParameter, Net.MaxDifference(ourNet, builtInNet));
            maxBuffer = Math.Max(maxBuffer, BufferDifference(ours, builtIn, ourParameters, builtInParameters, c, settings.LearningRate));
        }

        double tolerance = c.Tolerance;
        var verdict = c.IsKnownTorchSharpDifference ? Verdict.KnownTorchSharpDifference
            : maxParameter <= tolerance && maxBuffer <= tolerance ? Verdict.Pass : Verdict.Fail;
        return new VerificationResult(c, steps, maxParameter, maxBuffer, verdict);
    }

    // The chapter form is only checked with a constant lr, where its velocity is lr times SGD's buffer.
    private static double BufferDifference(MomentumSgd ours, optim.Optimizer builtIn, Parameter[] ourParameters,
        Parameter[] builtInParameters, VerificationCase c, double lr)
    {
        if (c.Momentum == 0) return 0;
        using var scope = NewDisposeScope();
        var builtInState = ((OptimizerHelper)builtIn).state_dict().State;
        double max = 0;
        for (int i = 0; i < ourParameters.Length; i++)
        {
            var ourBuffer = ours.MomentumBuffer(ourParameters[i]);
            var theirBuffer = ((SGD.State)builtInState[i]).momentum_buffer;
            if (ourBuffer is null || theirBuffer is null)
            {
                if (ourBuffer is not null || theirBuffer is not null) return double.PositiveInfinity;
                continue;
            }
            var expected = c.Formulation == MomentumFormulation.Chapter ? theirBuffer * lr
                : c.Maximize ? theirBuffer.neg() : theirBuffer;
            max = Math.Max(max, (ourBuffer - expected).abs().max().ToScalar().ToDouble());
        }
        return max;
    }

    private static optim.lr_scheduler.LRScheduler HalveEveryFourEpochs(optim.Optimizer optimizer, ExperimentSettings settings) =>
        optim.lr_scheduler.StepLR(optimizer, step_size: 4 * settings.StepsPerEpoch, gamma: 0.5);
}
