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
/// optimizer's step. For the same reason the nets can take their step on several threads at once, each thread
/// its share of them with one backward over their losses: a net's numbers depend on its own weights and the
/// batch alone, never on which thread stepped it.
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
    /// <param name="workers">Threads the nets' steps are shared over, the caller's one of them: net i steps on
    /// thread i mod workers. One, the default, keeps every step on the caller's thread; more suit nets too small
    /// for libtorch to split an operation over threads.</param>
    public static IEnumerable<double[]> Run(Tensor x, Tensor y, int batchSize, int epochs, IReadOnlyList<Contestant> contestants,
        Func<Tensor, Tensor, Tensor>? objective = null, Func<long, Tensor>? order = null, int workers = 1)
    {
        if (contestants.Select(c => c.Net).Distinct().Count() != contestants.Count)
            throw new ArgumentException("each contestant must train a net of its own: one backward serves them all, and a shared net would get two gradients", nameof(contestants));
        objective ??= (output, target) => nn.functional.mse_loss(output, target);
        using var crew = new Crew(Math.Clamp(workers, 1, Math.Max(1, contestants.Count)));
        // Net i steps on worker i mod the crew's size.
        int[][] shares = [.. Enumerable.Range(0, crew.Size).Select(w => Enumerable.Range(0, contestants.Count).Where(i => i % crew.Size == w).ToArray())];
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            using var epochScope = NewDisposeScope();
            var (batchesX, batchesY) = EpochOrder.Batches(x, y, batchSize, order);
            for (int b = 0; b < batchesX.Length; b++)
            {
                var losses = new double[contestants.Count];
                var (batchX, batchY) = (batchesX[b], batchesY[b]);
                crew.Run(worker =>
                {
                    using var stepScope = NewDisposeScope();
                    var mine = shares[worker];
                    var objectives = new Tensor[mine.Length];
                    var reported = new Tensor?[mine.Length];
                    for (int k = 0; k < mine.Length; k++)
                    {
                        var c = contestants[mine[k]];
                        objectives[k] = objective(c.Net.forward(batchX), batchY);
                        // A contestant judged at its average reports the average's loss on the batch, before the step.
                        if (c.Average is { } average)
                            using (no_grad()) reported[k] = objective(((Model.Net)average.Module).forward(batchX), batchY);
                        c.Optimizer.zero_grad();
                    }
                    autograd.backward(objectives);
                    for (int k = 0; k < mine.Length; k++)
                    {
                        var c = contestants[mine[k]];
                        c.Optimizer.step();
                        c.Scheduler?.step();
                        c.Average?.UpdateParameters(c.Net);
                        // Disposed here, not left to a finalizer: a step's leftovers must die young, or a long run's memory creeps.
                        using var loss = (reported[k] ?? objectives[k]).ToScalar();
                        losses[mine[k]] = loss.ToDouble();
                    }
                });
                yield return losses;
            }
        }
    }

    /// <summary>
    /// The threads a step is shared over: the caller's, worker 0, and <see cref="Size"/> - 1 of its own, made once
    /// and kept until disposed (a run's steps are too short to hand to the thread pool one by one).
    /// </summary>
    private sealed class Crew : IDisposable
    {
        private readonly Thread[] helpers;
        private readonly SemaphoreSlim[] go;
        private readonly SemaphoreSlim done = new(0);
        private Action<int>? work;
        private Exception? failure;
        private volatile bool stopping;

        public Crew(int size)
        {
            Size = size;
            go = Enumerable.Range(1, size - 1).Select(_ => new SemaphoreSlim(0)).ToArray();
            helpers = Enumerable.Range(1, size - 1).Select(w => new Thread(() => Loop(w)) { IsBackground = true, Name = $"lockstep worker {w}" }).ToArray();
            foreach (var helper in helpers) helper.Start();
        }

        /// <summary>How many threads share a step, the caller's included.</summary>
        public int Size { get; }

        /// <summary>Runs <paramref name="step"/> on every worker at once and returns when all are done; a worker's failure is thrown here.</summary>
        public void Run(Action<int> step)
        {
            work = step;
            foreach (var g in go) g.Release();
            try
            {
                step(0);
            }
            finally
            {
                for (int i = 0; i < helpers.Length; i++) done.Wait();
            }
            if (Interlocked.Exchange(ref failure, null) is { } e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw();
        }

        private void Loop(int worker)
        {
            while (true)
            {
                go[worker - 1].Wait();
                if (stopping) return;
                try
                {
                    work!(worker);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
                done.Release();
            }
        }

        public void Dispose()
        {
            stopping = true;
            foreach (var g in go) g.Release();
            foreach (var helper in helpers) helper.Join();
            foreach (var g in go) g.Dispose();
            done.Dispose();
        }
    }
}
