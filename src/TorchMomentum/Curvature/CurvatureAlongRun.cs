using TorchMomentum.Data;
using TorchMomentum.Model;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Curvature;

/// <summary>The curvature of one contestant's net after <paramref name="Step"/> steps of a run.</summary>
/// <param name="Step">Steps taken (0: the initial weights).</param>
/// <param name="Contestant">The contestant's name, as <c>train</c>'s column.</param>
/// <param name="Eigenvalues">The full-data loss's Hessian's largest eigenvalues, largest first: lambda_max, then the next ones.</param>
/// <param name="BatchSharpness">The largest eigenvalue of the Hessian of the loss on the batch the next step trains on.</param>
/// <param name="FullDataLoss">The full-data loss there.</param>
public sealed record CurvaturePoint(int Step, string Contestant, double[] Eigenvalues, double BatchSharpness, double FullDataLoss)
{
    /// <summary>The full-data loss's sharpness, its Hessian's largest eigenvalue.</summary>
    public double LambdaMax => Eigenvalues[0];
}

/// <summary>
/// The curvature of each contestant's net along a run of <c>train</c> (its data, initial weights and batches, drawn as
/// <c>train</c> draws them): every <c>every</c> steps, the exact Hessian of the full-data loss (<see cref="NetHessian"/>)
/// and its largest eigenvalues, and the sharpness of the batch the next step trains on. Cohen et al. 2021 ("Gradient
/// Descent on Neural Networks Typically Occurs at the Edge of Stability") find full-batch gradient descent drives
/// lambda_max up to 2/lr and holds it there; section 5.2's bound for heavy ball is 2(1 + momentum)/lr.
/// </summary>
public static class CurvatureAlongRun
{
    /// <summary>
    /// Trains a run of <paramref name="settings"/> on the CPU and measures its nets at the initial weights and after
    /// every <paramref name="every"/> steps (and after the last), keeping the <paramref name="top"/> largest eigenvalues.
    /// Ends early where a contestant diverges (that point is not measured), and tells <paramref name="diverged"/> where.
    /// <paramref name="only"/> measures that contestant alone (the others still train: they draw the batch order).
    /// </summary>
    public static IEnumerable<CurvaturePoint> Measure(ExperimentSettings settings, int every, int top, CancellationToken cancel = default, Action<Divergence>? diverged = null,
        string? only = null)
    {
        using var run = new ChapterRun(settings, CPU);
        var (x, y) = run.DataInFloat64();
        var full = new FullDataLoss(x, y);
        // The batches, replayed from the generator as the run draws them: the permutation of each epoch, cut into batches.
        var replay = new EpochOrderReplay(run.GeneratorState, x.Length);
        var order = new long[x.Length];

        IEnumerable<CurvaturePoint> At(int step)
        {
            int epoch = step / settings.StepsPerEpoch, first = step % settings.StepsPerEpoch * settings.BatchSize;
            replay.CopyTo(epoch, order);
            var batch = order.Skip(first).Take(settings.BatchSize).ToArray();
            double[] bx = batch.Select(i => x[i]).ToArray(), by = batch.Select(i => y[i]).ToArray();
            var scratch = new double[2 * settings.Hidden];
            foreach (string name in run.Names.Where(n => only is null || n == only))
            {
                cancel.ThrowIfCancellationRequested();
                var w = NetWeights.Of(run.NetOf(name)!);
                double[] eigenvalues, batchValues;
                using (var hessian = NetHessian.Of(w, x, y)) eigenvalues = NetHessian.Eigenvalues(hessian);
                using (var batchHessian = NetHessian.Of(w, bx, by)) batchValues = NetHessian.Eigenvalues(batchHessian);
                yield return new CurvaturePoint(step, name, eigenvalues[..Math.Min(top, eigenvalues.Length)], batchValues[0], full.Of(w.W1, w.B1, w.W2, w.B2, scratch));
            }
        }

        foreach (var point in At(0)) yield return point;
        int last = 0;
        foreach (var step in run.Train())
        {
            cancel.ThrowIfCancellationRequested();
            last = step.Step + 1;
            if (last % every == 0 || last == settings.TotalSteps)
                foreach (var point in At(last)) yield return point;
        }
        if (run.Divergence is { } divergence) diverged?.Invoke(divergence);
    }
}
