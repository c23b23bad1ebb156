using TorchMomentum.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchMomentum.Training;

/// <summary>
/// The chapter's training loop (section 5.6) for several nets at once: every step, each net takes the same
/// mini-batch through forward, MSE loss, zero_grad, backward and its optimizer's step.
/// </summary>
/// <remarks>
/// The nets share nothing but the batch, so one backward over all their losses gives each net exactly the
/// gradient its own <c>loss.backward()</c> would: the gradient flowing into each loss is 1, as it is alone, and
/// no parameter is reached from two losses. It is the same arithmetic bit for bit (on the project's machine the
/// default losses.csv stayed byte-identical to the tests' Fixtures/losses-default.csv, though the test itself
/// allows 1e-6 against it, for other CPUs), and one pass of libtorch's autograd engine instead of one per net
/// costs 12-15% less a step. So a step is: every net's forward, loss and zero_grad; one backward; every
/// optimizer's step.
/// </remarks>
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
    /// <param name="contestants">The nets and their optimizers; each net its own (one backward serves them all).</param>
    /// <param name="objective">What backward runs on, from the net's output and the targets; the chapter's
    /// MSE loss when null. An optimizer that maximizes wants something with a maximum, such as -MSE.</param>
    /// <param name="order">Draws an epoch's order (<see cref="EpochOrder.Next"/> from the global generator by default).</param>
    public static IEnumerable<double[]> Run(Tensor x, Tensor y, int batchSize, int epochs, IReadOnlyList<Contestant> contestants,
        Func<Tensor, Tensor, Tensor>? objective = null, Func<long, Tensor>? order = null)
    {
        if (contestants.Select(c => c.Net).Distinct().Count() != contestants.Count)
            throw new ArgumentException("each contestant must train a net of its own: one backward serves them all, and a shared net would get two gradients", nameof(contestants));
        objective ??= (output, target) => nn.functional.mse_loss(output, target);
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            using var epochScope = NewDisposeScope();
            var (batchesX, batchesY) = EpochOrder.Batches(x, y, batchSize, order);
            for (int b = 0; b < batchesX.Length; b++)
            {
                var losses = new double[contestants.Count];
                using (NewDisposeScope())
                {
                    var objectives = new Tensor[contestants.Count];
                    for (int i = 0; i < contestants.Count; i++)
                    {
                        objectives[i] = objective(contestants[i].Net.forward(batchesX[b]), batchesY[b]);
                        contestants[i].Optimizer.zero_grad();
                    }
                    autograd.backward(objectives);
                    for (int i = 0; i < contestants.Count; i++)
                    {
                        contestants[i].Optimizer.step();
                        contestants[i].Scheduler?.step();
                        // Disposed here, not left to a finalizer: a step's leftovers must die young, or a long run's memory creeps.
                        using var loss = objectives[i].ToScalar();
                        losses[i] = loss.ToDouble();
                    }
                }
                yield return losses;
            }
        }
    }
}
