using System.Diagnostics;
using TorchMomentum.Data;
using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchMomentum.Training;

/// <summary>
/// The chapter's comparison (section 5.6, with 5.5's hand-written step added): plain SGD, the built-in
/// SGD with momentum and the hand-written momentum step, each training its own net on the same
/// mini-batches in lockstep.
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
        torch.manual_seed(settings.Seed);
        var (x, y) = ChapterData.Generate(settings.Samples, device, settings.DType);
        using var _x = x;
        using var _y = y;
        using var sgdNet = BuildNet(settings, device);
        using var momentumNet = BuildNet(settings, device);
        using var handwrittenNet = momentumNet.Copy();

        using var sgd = optim.SGD(sgdNet.parameters(), settings.LearningRate);
        using var momentum = optim.SGD(momentumNet.parameters(), settings.LearningRate, settings.Momentum);
        using var handwritten = new ChapterMomentum(handwrittenNet.parameters(), settings.LearningRate, settings.Momentum);
        Contestant[] contestants =
        [
            new(Names[0], sgdNet, () => sgd.step()),
            new(Names[1], momentumNet, () => momentum.step()),
            new(Names[2], handwrittenNet, handwritten.Step),
        ];

        var stepLosses = new List<double[]>(settings.Epochs * settings.StepsPerEpoch);
        var epochMeans = new List<double[]>(settings.Epochs);
        var clock = Stopwatch.StartNew();
        for (int epoch = 0; epoch < settings.Epochs; epoch++)
        {
            var sums = new double[contestants.Length];
            using var epochScope = NewDisposeScope();
            // One gather per epoch; each batch is then a view (narrow) of the shuffled copy.
            var order = EpochOrder.Next(settings.Samples).to(device);
            var xs = x.index_select(0, order);
            var ys = y.index_select(0, order);
            for (long start = 0; start < settings.Samples; start += settings.BatchSize)
            {
                using var stepScope = NewDisposeScope();
                long size = Math.Min(settings.BatchSize, settings.Samples - start);
                var batchX = xs.narrow(0, start, size);
                var batchY = ys.narrow(0, start, size);
                var losses = new double[contestants.Length];
                for (int i = 0; i < contestants.Length; i++)
                {
                    losses[i] = TrainOneStep(contestants[i], batchX, batchY);
                    sums[i] += losses[i] * size;
                }
                stepLosses.Add(losses);
                onStep?.Invoke(stepLosses.Count);
            }
            epochMeans.Add(sums.Select(s => s / settings.Samples).ToArray());
        }
        clock.Stop();

        return new ExperimentResult
        {
            Names = Names,
            StepLosses = stepLosses,
            EpochMeanLosses = epochMeans,
            MaxParameterDifference = MaxDifference(handwrittenNet, momentumNet),
            TrainingTime = clock.Elapsed,
        };
    }

    /// <summary>A new net from the global generator, moved to the run's device and dtype.</summary>
    private static Net BuildNet(ExperimentSettings settings, Device device)
    {
        var net = new Net(settings.Hidden);
        net.to(settings.DType).to(device);
        return net;
    }

    /// <summary>The chapter's inner loop body: forward, MSE loss, zero_grad, backward, step.</summary>
    private static double TrainOneStep(Contestant contestant, Tensor batchX, Tensor batchY)
    {
        var loss = nn.functional.mse_loss(contestant.Net.forward(batchX), batchY);
        contestant.Net.zero_grad();
        loss.backward();
        contestant.Step();
        return loss.ToScalar().ToDouble();
    }

    /// <summary>Largest absolute difference between corresponding parameters of two nets.</summary>
    public static double MaxDifference(Net a, Net b)
    {
        using var scope = NewDisposeScope();
        return a.parameters().Zip(b.parameters())
            .Max(pair => (pair.First - pair.Second).abs().max().ToScalar().ToDouble());
    }
}
