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
/// far parameters and momentum state have drifted apart. The PyTorch form runs free the whole way and must stay
/// bit for bit equal; the chapter form starts each step from SGD's parameters and must stay within that step's
/// <see cref="ChapterRoundingBound"/>.
/// </summary>
public static class OptimizerVerifier
{
    /// <summary>Runs one configuration. Seeds torch's global generator.</summary>
    /// <param name="verificationCase">Hyperparameters, formulation and dtype.</param>
    /// <param name="settings">Data size, batch size, epochs, learning rate and seed (its dtype is ignored).</param>
    /// <param name="device">Where to run.</param>
    public static VerificationResult Run(VerificationCase verificationCase, ExperimentSettings settings, Device device) =>
        Run(verificationCase, settings, device, (parameters, c) => new MomentumSgd(parameters, settings.LearningRate, c.Momentum, c.Dampening,
            c.WeightDecay, c.Nesterov, c.Maximize, c.Formulation));

    /// <summary>Runs one configuration against the optimizer <paramref name="buildOurs"/> builds (tests give it a wrong one).</summary>
    internal static VerificationResult Run(VerificationCase verificationCase, ExperimentSettings settings, Device device,
        Func<IEnumerable<Parameter>, VerificationCase, MomentumSgd> buildOurs)
    {
        var c = verificationCase;
        manual_seed(settings.Seed);
        var (x, y) = ChapterData.Generate(settings.Samples, device, c.DType);
        using var _x = x;
        using var _y = y;
        using var builtInNet = Net.Build(settings.Hidden, c.DType, device);
        using var ourNet = builtInNet.Copy();
        using var builtIn = optim.SGD(builtInNet.parameters(), settings.LearningRate, c.Momentum, c.Dampening, c.WeightDecay, c.Nesterov, c.Maximize);
        using var ours = buildOurs(ourNet.parameters(), c);
        var builtInSchedule = c.StepSchedule ? HalveEveryFourEpochs(builtIn, settings) : null;
        var ourSchedule = c.StepSchedule ? HalveEveryFourEpochs(ours, settings) : null;

        var ourParameters = ourNet.parameters().ToArray();
        var builtInParameters = builtInNet.parameters().ToArray();
        double maxParameter = 0, maxBuffer = 0, parameterTolerance = 0, bufferTolerance = 0, worstShare = 0;
        // The chapter form is held to the rounding bound of one step from SGD's parameters (see ChapterRoundingBound).
        var bound = c.IsBitwise ? null : new ChapterRoundingBound(c.DType, c.Momentum, settings.LearningRate);
        int steps = 0;
        // Gradient ascent on the MSE runs off to infinity; maximizing -MSE is the same training run.
        Func<Tensor, Tensor, Tensor>? objective = c.Maximize ? (output, target) => -nn.functional.mse_loss(output, target) : null;
        Contestant[] contestants = [new("ours", ourNet, ours, ourSchedule), new("built-in", builtInNet, builtIn, builtInSchedule)];
        foreach (var _ in LockstepTraining.Run(x, y, settings.BatchSize, settings.Epochs, contestants, objective))
        {
            steps++;
            double parameterDifference = Net.MaxDifference(ourNet, builtInNet);
            double bufferDifference = BufferDifference(ours, builtIn, ourParameters, builtInParameters, c, settings.LearningRate);
            maxParameter = Math.Max(maxParameter, parameterDifference);
            maxBuffer = Math.Max(maxBuffer, bufferDifference);
            if (bound is null) continue;
            bound.Step(MaxAbs(ourParameters.Select(p => p.grad)), MaxAbs(ourParameters.Select(ours.MomentumBuffer)),
                Math.Max(MaxAbs(ourParameters), MaxAbs(builtInParameters)));
            parameterTolerance = Math.Max(parameterTolerance, bound.Parameter);
            bufferTolerance = Math.Max(bufferTolerance, bound.Buffer);
            worstShare = Math.Max(worstShare, Math.Max(Share(parameterDifference, bound.Parameter), Share(bufferDifference, bound.Buffer)));
            // The next step starts from SGD's parameters, so both nets take the same gradient; the velocity runs on.
            using var noGrad = no_grad();
            foreach (var (mine, theirs) in ourParameters.Zip(builtInParameters)) mine.copy_(theirs);
        }

        var verdict = c.IsKnownTorchSharpDifference ? Verdict.KnownTorchSharpDifference
            : (bound is null ? maxParameter == 0 && maxBuffer == 0 : worstShare <= 1) ? Verdict.Pass : Verdict.Fail;
        return new VerificationResult(c, steps, maxParameter, maxBuffer, parameterTolerance, bufferTolerance, bound is null ? null : worstShare, verdict);
    }

    /// <summary>A difference as a share of its bound: 0 for none, infinite for any at all where the bound is 0.</summary>
    private static double Share(double difference, double bound) => difference == 0 ? 0 : difference / bound;

    /// <summary>The largest absolute value in any of the tensors (those that exist), as a double.</summary>
    private static double MaxAbs(IEnumerable<Tensor?> tensors)
    {
        using var scope = NewDisposeScope();
        double max = 0;
        foreach (var t in tensors)
            if (t is not null) max = Math.Max(max, t.detach().abs().max().ToScalar().ToDouble());
        return max;
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
