using TorchMomentum.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchMomentum.Training;

/// <summary>
/// The chapter's training loop (section 5.6) for several nets at once: every step, each net takes the
/// same mini-batch through forward, MSE loss, zero_grad, backward and its optimizer's step.
/// </summary>
public static class LockstepTraining
{
    /// <summary>
    /// Trains for <see cref="ExperimentSettings.Epochs"/> epochs in PyTorch's batch order (two draws from the
    /// global generator per epoch). Each step runs in its own dispose scope, so native memory stays flat
    /// however many steps there are.
    /// </summary>
    /// <param name="x">Inputs, [samples, 1].</param>
    /// <param name="y">Targets, [samples, 1].</param>
    /// <param name="settings">Epochs and batch size.</param>
    /// <param name="contestants">The nets and their optimizers.</param>
    /// <param name="afterStep">Called after every step with the step's index (from 0), the size of its
    /// batch and each contestant's loss on it (before its update).</param>
    /// <param name="objective">What backward runs on, from the net's output and the targets; the chapter's
    /// MSE loss when null. An optimizer that maximizes wants something with a maximum, such as -MSE.</param>
    public static void Run(Tensor x, Tensor y, ExperimentSettings settings, IReadOnlyList<Contestant> contestants,
        Action<int, long, double[]> afterStep, Func<Tensor, Tensor, Tensor>? objective = null)
    {
        for (int epoch = 0; epoch < settings.Epochs; epoch++)
            RunEpoch(x, y, settings.BatchSize, contestants, epoch * settings.StepsPerEpoch, (step, size, losses) =>
            {
                afterStep(step, size, losses);
                return true;
            }, objective);
    }

    /// <summary>
    /// Trains one epoch: draws its order, then steps through its batches until they are done or
    /// <paramref name="afterStep"/> returns false.
    /// </summary>
    /// <param name="x">Inputs, [samples, 1].</param>
    /// <param name="y">Targets, [samples, 1].</param>
    /// <param name="batchSize">Samples per batch; the last batch may be smaller.</param>
    /// <param name="contestants">The nets and their optimizers.</param>
    /// <param name="firstStep">Index of the epoch's first step.</param>
    /// <param name="afterStep">Called after every step with its index, its batch size and the losses;
    /// returning false ends the epoch there.</param>
    /// <param name="objective">As for <see cref="Run"/>.</param>
    /// <returns>Whether the epoch ran to its end.</returns>
    public static bool RunEpoch(Tensor x, Tensor y, int batchSize, IReadOnlyList<Contestant> contestants, int firstStep,
        Func<int, long, double[], bool> afterStep, Func<Tensor, Tensor, Tensor>? objective = null)
    {
        objective ??= (output, target) => nn.functional.mse_loss(output, target);
        using var epochScope = NewDisposeScope();
        // One gather per epoch, then one split into batches that are views of the shuffled copy:
        // per step, no tensor operation is spent on batching.
        var order = EpochOrder.Next(x.shape[0]).to(x.device);
        var batchesX = x.index_select(0, order).split(batchSize);
        var batchesY = y.index_select(0, order).split(batchSize);
        for (int b = 0; b < batchesX.Length; b++)
        {
            using var stepScope = NewDisposeScope();
            var losses = new double[contestants.Count];
            for (int i = 0; i < contestants.Count; i++)
                losses[i] = TrainOneStep(contestants[i], batchesX[b], batchesY[b], objective);
            if (!afterStep(firstStep + b, batchesX[b].shape[0], losses)) return false;
        }
        return true;
    }

    private static double TrainOneStep(Contestant contestant, Tensor batchX, Tensor batchY, Func<Tensor, Tensor, Tensor> objective)
    {
        var loss = objective(contestant.Net.forward(batchX), batchY);
        contestant.Optimizer.zero_grad();
        loss.backward();
        contestant.Optimizer.step();
        contestant.Scheduler?.step();
        return loss.ToScalar().ToDouble();
    }
}
