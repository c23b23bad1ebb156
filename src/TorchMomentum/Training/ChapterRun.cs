using TorchMomentum.Data;
using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Training;

/// <summary>Where and how a run blew up.</summary>
/// <param name="Optimizer">The first contestant whose loss stopped being finite.</param>
/// <param name="Step">The step (from 0) whose loss was NaN or infinite.</param>
/// <param name="LastFiniteLoss">That contestant's loss on the step before (NaN if there was none).</param>
public sealed record Divergence(string Optimizer, int Step, double LastFiniteLoss);

/// <summary>
/// One run of the chapter's comparison (section 5.6, with 5.5's hand-written step added): plain SGD, the
/// built-in SGD with momentum and <see cref="MomentumSgd"/> in the chapter's formulation, each training its
/// own net on the same mini-batches. It advances an epoch at a time, stops at the first non-finite loss,
/// and can be saved at an epoch's end and continued later to exactly the result it would have had.
/// </summary>
public sealed class ChapterRun : IDisposable
{
    /// <summary>Column names of the three contestants, in order.</summary>
    public static readonly IReadOnlyList<string> Names = ["sgd", "momentum", "handwritten"];

    private const string Magic = "TorchMomentum chapter run, checkpoint version 1";
    private readonly Tensor x, y;
    private readonly Net[] nets;
    private readonly OptimizerHelper[] optimizers;
    private readonly Contestant[] contestants;
    private double[] lastFiniteLosses = [double.NaN, double.NaN, double.NaN];

    /// <summary>
    /// Sets up a new run: seeds torch's global generator and draws in the chapter program's order (data,
    /// net_SGD, net_Momentum); the hand-written net copies net_Momentum's weights. Uses the global
    /// generator, so it must not run concurrently with anything else that draws from it.
    /// </summary>
    public ChapterRun(ExperimentSettings settings, Device device)
    {
        Settings = settings;
        manual_seed(settings.Seed);
        (x, y) = ChapterData.Generate(settings.Samples, device, settings.DType);
        var sgdNet = Net.Build(settings.Hidden, settings.DType, device);
        var momentumNet = Net.Build(settings.Hidden, settings.DType, device);
        nets = [sgdNet, momentumNet, momentumNet.Copy()];
        optimizers =
        [
            optim.SGD(sgdNet.parameters(), settings.LearningRate),
            optim.SGD(momentumNet.parameters(), settings.LearningRate, settings.Momentum),
            new MomentumSgd(nets[2].parameters(), settings.LearningRate, settings.Momentum, formulation: MomentumFormulation.Chapter),
        ];
        contestants = Names.Select((name, i) => new Contestant(name, nets[i], optimizers[i])).ToArray();
    }

    /// <summary>The run's settings.</summary>
    public ExperimentSettings Settings { get; }

    /// <summary>Where data, nets and optimizer state live.</summary>
    public Device Device => x.device;

    /// <summary>Epochs trained so far.</summary>
    public int EpochsDone { get; private set; }

    /// <summary>Steps trained so far (whole epochs only).</summary>
    public int StepsDone => EpochsDone * Settings.StepsPerEpoch;

    /// <summary>Whether every epoch has been trained.</summary>
    public bool IsComplete => EpochsDone >= Settings.Epochs;

    /// <summary>
    /// Trains the next epoch, calling <paramref name="onStep"/> with each step's index, batch size and losses.
    /// Stops at the first step where some loss is NaN or infinite, without reporting that step, and says so.
    /// </summary>
    /// <returns>Null when the epoch ran to its end; otherwise where the run diverged.</returns>
    public Divergence? TrainEpoch(Action<int, long, double[]> onStep)
    {
        Divergence? divergence = null;
        LockstepTraining.RunEpoch(x, y, Settings.BatchSize, contestants, StepsDone, (step, size, losses) =>
        {
            int blownUp = Array.FindIndex(losses, loss => !double.IsFinite(loss));
            if (blownUp >= 0)
            {
                divergence = new Divergence(Names[blownUp], step, lastFiniteLosses[blownUp]);
                return false;
            }
            lastFiniteLosses = losses;
            onStep(step, size, losses);
            return true;
        });
        if (divergence is null) EpochsDone++;
        return divergence;
    }

    /// <summary>The net trained by the hand-written optimizer.</summary>
    public Net HandwrittenNet => nets[2];

    /// <summary>The hand-written optimizer (chapter formulation).</summary>
    public MomentumSgd HandwrittenOptimizer => (MomentumSgd)optimizers[2];

    /// <summary>Largest |hand-written - built-in momentum| over all parameters, now.</summary>
    public double MaxParameterDifference() => Net.MaxDifference(nets[2], nets[1]);

    /// <summary>
    /// Writes everything needed to continue exactly: the settings, the epochs done, the global generator's
    /// state (it orders the coming epochs), and each net's weights and optimizer state.
    /// </summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(Magic);
        writer.Write(Settings.ToJson());
        writer.Write(EpochsDone);
        foreach (double loss in lastFiniteLosses) writer.Write(loss);
        using (var rng = random.get_rng_state())
        {
            var bytes = rng.data<byte>().ToArray();
            writer.Write(bytes.Length);
            writer.Write(bytes);
        }
        for (int i = 0; i < nets.Length; i++)
        {
            nets[i].save(writer);
            optimizers[i].save_state_dict(writer);
        }
    }

    /// <summary>Rebuilds a run saved by <see cref="Save"/>, ready to train its next epoch.</summary>
    /// <exception cref="InvalidDataException">The data is not such a checkpoint.</exception>
    public static ChapterRun Load(BinaryReader reader, Device device)
    {
        if (reader.ReadString() != Magic) throw new InvalidDataException("not a TorchMomentum checkpoint");
        var settings = ExperimentSettings.FromJson(reader.ReadString());
        var run = new ChapterRun(settings, device);
        try
        {
            run.EpochsDone = reader.ReadInt32();
            run.lastFiniteLosses = [reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble()];
            var rng = reader.ReadBytes(reader.ReadInt32());
            for (int i = 0; i < run.nets.Length; i++)
            {
                run.nets[i].load(reader);
                run.optimizers[i].load_state_dict(reader);
            }
            // Last: building the run above drew from the generator.
            using var state = tensor(rng, dtype: ScalarType.Byte);
            random.set_rng_state(state);
            if (run.EpochsDone < 0 || run.EpochsDone > settings.Epochs) throw new InvalidDataException($"epochs done {run.EpochsDone} is outside [0, {settings.Epochs}]");
            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var optimizer in optimizers) optimizer.Dispose();
        foreach (var net in nets) net.Dispose();
        x.Dispose();
        y.Dispose();
    }
}
