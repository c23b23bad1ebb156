using TorchMomentum.Devices;
using TorchMomentum.Model;
using TorchMomentum.Theory;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Curvature;

/// <summary>
/// The noisy quadratic model (<see cref="NoisyQuadraticModel"/>) of the chapter's net: the exact Hessian's
/// eigen-directions at a trained point, the per-example gradients' variance along each, and where the run's initial
/// weights lie along each (Zhang et al. 2019). The batch-size study's Predict turns it into the steps to
/// each target of a batch-size study's grid, tuned over the same learning rates and momenta as the measurement.
/// </summary>
/// <remarks>
/// The model is the net's loss as the quadratic of its curvature at the trained point: right near that point, and
/// only roughly from the initial weights, where the net's curvature differs (lambda_max 9.9 at seed 1's initial
/// weights, against the trained point's) and relus switch on and off. A direction of negative curvature (a trained
/// point is a minimum only nearly) is taken as flat: it adds nothing to the loss.
/// </remarks>
public sealed class QuadraticModelOfNet
{
    private QuadraticModelOfNet(IReadOnlyList<QuadraticDirection> directions, double minimum, int samples, double floor)
    {
        Directions = directions;
        Minimum = minimum;
        Samples = samples;
        Floor = floor;
    }

    /// <summary>The noise floor of the model's data, mean((y - x^2)^2) (<see cref="Data.ChapterData.FloorOf"/>): what excess targets are above.</summary>
    public double Floor { get; }

    /// <summary>Every eigen-direction, largest curvature first.</summary>
    public IReadOnlyList<QuadraticDirection> Directions { get; }

    /// <summary>The full-data loss at the trained point, L*.</summary>
    public double Minimum { get; }

    /// <summary>Samples in the data, N.</summary>
    public int Samples { get; }

    /// <summary>
    /// Trains <c>train</c>'s momentum net with <paramref name="settings"/> (its seed, batch size, lr, momentum and
    /// epochs) to the trained point and builds the model there, starting from the same net's initial weights.
    /// </summary>
    public static QuadraticModelOfNet Fit(ExperimentSettings settings)
    {
        // net_SGD and net_Momentum drawn as train's default race draws them (its hand-written net is a copy, which draws
        // nothing): the same momentum net and batches, with two nets to train rather than three.
        using var run = new ChapterRun(settings with { Contestants = $"{ContestantNames.Sgd},{ContestantNames.Momentum}" }, CPU);
        var (x, y) = run.DataInFloat64();
        var start = NetWeights.Of(run.NetOf(ContestantNames.Momentum)!);
        foreach (var _ in run.Train()) { }
        if (run.Divergence is { } diverged) throw new InvalidOperationException($"the run to the trained point diverged at step {diverged.Step}");
        return At(NetWeights.Of(run.NetOf(ContestantNames.Momentum)!), start, x, y);
    }

    /// <summary>The model at <paramref name="trained"/>, for runs starting at <paramref name="start"/>, on samples (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public static QuadraticModelOfNet At(NetWeights trained, NetWeights start, double[] x, double[] y)
    {
        using var scope = NewDisposeScope();
        var (curvatures, vectors) = NetHessian.EigenDecomposition(NetHessian.Of(trained, x, y));
        int p = trained.Count, n = x.Length;
        // Per-example loss gradients 2 e_i grad f_i, centred, projected on the eigenvectors: their variance along each.
        var gradients = NetHessian.PerSampleLossGradients(trained, x, y);
        var centred = gradients - gradients.mean([0], keepdim: true);
        var basis = tensor(Flatten(vectors), [p, p], ScalarType.Float64);
        var along = centred.mm(basis);
        var variances = HostValues.Doubles(along.square().sum([0]).div_(n - 1).contiguous()).ToArray();
        double[] offset = [.. start.W1.Zip(trained.W1, (a, b) => a - b), .. start.B1.Zip(trained.B1, (a, b) => a - b),
            .. start.W2.Zip(trained.W2, (a, b) => a - b), start.B2 - trained.B2];
        var directions = Enumerable.Range(0, p).Select(k => new QuadraticDirection(Math.Max(0, curvatures[k]), variances[k],
            Enumerable.Range(0, p).Sum(r => vectors[r, k] * offset[r]))).ToArray();
        var full = new FullDataLoss(x, y);
        double minimum = full.Of(trained.W1, trained.B1, trained.W2, trained.B2, new double[2 * trained.Hidden]);
        return new QuadraticModelOfNet(directions, minimum, n, Data.ChapterData.FloorOf(x, y));
    }

    private static double[] Flatten(double[,] m)
    {
        var flat = new double[m.Length];
        Buffer.BlockCopy(m, 0, flat, 0, m.Length * sizeof(double));
        return flat;
    }
}
