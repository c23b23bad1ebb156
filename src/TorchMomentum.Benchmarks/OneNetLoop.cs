using TorchMomentum.Data;
using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Benchmarks;

/// <summary>
/// The chapter's data and one net trained with the momentum optimizer, through the same training loop
/// `train` uses: the workload figure a times and figure d probes for memory.
/// </summary>
public sealed class OneNetLoop : IDisposable
{
    private readonly ExperimentSettings settings;
    private readonly Tensor x, y;
    private readonly Net net;
    private readonly MomentumSgd optimizer;

    /// <summary>Seeds torch and draws the chapter's data and net for <paramref name="settings"/>.</summary>
    public OneNetLoop(ExperimentSettings settings)
    {
        this.settings = settings;
        manual_seed(settings.Seed);
        (x, y) = ChapterData.Generate(settings.Samples, CPU, settings.DType);
        net = Net.Build(settings.Hidden, settings.DType, CPU);
        optimizer = new MomentumSgd(net.parameters(), settings.LearningRate, settings.Momentum);
    }

    /// <summary>Trains <paramref name="epochs"/> epochs, yielding each step's loss.</summary>
    public IEnumerable<double[]> Run(int epochs) => LockstepTraining.Run(x, y, settings.BatchSize, epochs, [new("momentum", net, optimizer)]);

    /// <inheritdoc />
    public void Dispose()
    {
        optimizer.Dispose();
        net.Dispose();
        x.Dispose();
        y.Dispose();
    }
}
