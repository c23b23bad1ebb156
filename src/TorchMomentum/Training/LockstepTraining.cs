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
    /// per epoch) and yields each step's losses as soon as they are known; stop enumerating to stop. Each
    /// epoch's batches live in the epoch's dispose scope and each step's graph in the step's, so native
    /// memory stays flat however many steps there are.
    /// </summary>
    /// <param name="x">Inputs, [samples, 1].</param>
    /// <param name="y">Targets, [samples, 1].</param>
    /// <param name="batchSize">Samples per batch; an epoch's last batch may be smaller.</param>
    /// <param name="epochs">Epochs to train.</param>
    /// <param name="contestants">The nets and their optimizers.</param>
    /// <param name="objective">As for <see cref="Step"/>.</param>
    public static IEnumerable<double[]> Run(Tensor x, Tensor y, int batchSize, int epochs, IReadOnlyList<Contestant> contestants,
        Func<Tensor, Tensor, Tensor>? objective = null)
    {
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            using var epochScope = NewDisposeScope();
            var (batchesX, batchesY) = EpochOrder.Batches(x, y, batchSize);
            for (int b = 0; b < batchesX.Length; b++)
            {
                double[] losses;
                using (NewDisposeScope()) losses = Step(contestants, batchesX[b], batchesY[b], objective);
                yield return losses;
            }
        }
    }

    /// <summary>
    /// Trains every contestant one step on the batch and returns each one's loss on it (before its update).
    /// Call it inside a dispose scope: the graph's tensors belong to it.
    /// </summary>
    /// <param name="contestants">The nets and their optimizers.</param>
    /// <param name="batchX">Inputs, [batch, 1].</param>
    /// <param name="batchY">Targets, [batch, 1].</param>
    /// <param name="objective">What backward runs on, from the net's output and the targets; the chapter's
    /// MSE loss when null. An optimizer that maximizes wants something with a maximum, such as -MSE.</param>
    public static double[] Step(IReadOnlyList<Contestant> contestants, Tensor batchX, Tensor batchY, Func<Tensor, Tensor, Tensor>? objective = null)
    {
        var losses = new double[contestants.Count];
        for (int i = 0; i < contestants.Count; i++)
        {
            var c = contestants[i];
            var loss = objective is null ? nn.functional.mse_loss(c.Net.forward(batchX), batchY) : objective(c.Net.forward(batchX), batchY);
            c.Optimizer.zero_grad();
            loss.backward();
            c.Optimizer.step();
            c.Scheduler?.step();
            losses[i] = loss.ToScalar().ToDouble();
        }
        return losses;
    }
}
