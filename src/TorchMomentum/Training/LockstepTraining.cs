using TorchMomentum.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchMomentum.Training;

/// <summary>
/// The chapter's training loop (section 5.6) for several nets at once: every step, each net takes the same
/// mini-batch through forward, MSE loss, zero_grad, backward and its optimizer's step.
/// </summary>
public static class LockstepTraining
{
    /// <summary>
    /// Trains <paramref name="epochs"/> epochs in PyTorch's batch order (two draws from the global generator
    /// per epoch) and yields each step's losses, one per contestant on the step's batch before its update;
    /// stop enumerating to stop. Each epoch's batches live in the epoch's dispose scope and each step's graph
    /// in the step's, so native memory stays flat however many steps there are. The epoch's scope is still open
    /// while a step is handed out: a tensor the caller makes then, outside a scope of its own, is freed with the
    /// epoch's batches at the epoch's end.
    /// </summary>
    /// <param name="x">Inputs, [samples, 1].</param>
    /// <param name="y">Targets, [samples, 1].</param>
    /// <param name="batchSize">Samples per batch; an epoch's last batch may be smaller.</param>
    /// <param name="epochs">Epochs to train.</param>
    /// <param name="contestants">The nets and their optimizers.</param>
    /// <param name="objective">What backward runs on, from the net's output and the targets; the chapter's
    /// MSE loss when null. An optimizer that maximizes wants something with a maximum, such as -MSE.</param>
    /// <param name="order">Draws an epoch's order (<see cref="EpochOrder.Next"/> from the global generator by default).</param>
    public static IEnumerable<double[]> Run(Tensor x, Tensor y, int batchSize, int epochs, IReadOnlyList<Contestant> contestants,
        Func<Tensor, Tensor, Tensor>? objective = null, Func<long, Tensor>? order = null)
    {
        objective ??= (output, target) => nn.functional.mse_loss(output, target);
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            using var epochScope = NewDisposeScope();
            var (batchesX, batchesY) = EpochOrder.Batches(x, y, batchSize, order);
            for (int b = 0; b < batchesX.Length; b++)
            {
                var losses = new double[contestants.Count];
                using (NewDisposeScope())
                    for (int i = 0; i < contestants.Count; i++)
                    {
                        var (_, net, optimizer, scheduler) = contestants[i];
                        var loss = objective(net.forward(batchesX[b]), batchesY[b]);
                        optimizer.zero_grad();
                        loss.backward();
                        optimizer.step();
                        scheduler?.step();
                        losses[i] = loss.ToScalar().ToDouble();
                    }
                yield return losses;
            }
        }
    }
}
