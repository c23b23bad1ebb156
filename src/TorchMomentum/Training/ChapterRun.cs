using System.Diagnostics;
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

/// <summary>The data and each contestant's prediction, as <see cref="ChapterRun.Fit"/> gives them.</summary>
/// <param name="DataX">The inputs x.</param>
/// <param name="DataY">The targets y = x^2 + sigma * noise (sigma the label noise, the chapter's 0.1).</param>
/// <param name="GridX">Evenly spaced inputs over [-1, 1].</param>
/// <param name="Predictions">Each contestant's net's output at <paramref name="GridX"/>, in <see cref="ChapterRun.Names"/> order.</param>
public sealed record Fit(double[] DataX, double[] DataY, double[] GridX, IReadOnlyList<double[]> Predictions);

/// <summary>One step of a run, as <see cref="ChapterRun.Train"/> reports it.</summary>
/// <param name="Step">The step's index, from 0 over the whole run.</param>
/// <param name="Epoch">The epoch it belongs to, from 0.</param>
/// <param name="Losses">Each contestant's loss on the step's batch, before its update, in <see cref="ChapterRun.Names"/> order.</param>
/// <param name="EndsEpoch">Whether it was its epoch's last step (the run can be checkpointed right after it).</param>
public sealed record TrainingStep(int Step, int Epoch, double[] Losses, bool EndsEpoch);

/// <summary>
/// One run of the chapter's comparison (section 5.6, with 5.5's hand-written step added): by default plain SGD, the
/// built-in SGD with momentum and <see cref="MomentumSgd"/> in the chapter's formulation, or any list of
/// <see cref="ContestantNames"/> (<see cref="ExperimentSettings.Contestants"/>), each training its own net on the
/// same mini-batches. <see cref="Train"/> is the whole training loop; it stops at the first non-finite loss, and the
/// run can be checkpointed at an epoch's end and restored to exactly where it was.
/// </summary>
public sealed class ChapterRun : IDisposable
{
    private readonly RunGenerator generator;
    private readonly Tensor x, y;
    private Net[] nets;
    private Contestant[] contestants = [];
    private double[] lastFiniteLosses;

    /// <summary>
    /// Sets up a new run: seeds its generator (<see cref="RunGenerator"/>: the global one, swapped in for each
    /// draw, so runs in one process do not disturb each other) and draws in the chapter program's order: the data,
    /// then net_SGD, net_Momentum, net_RMSprop and net_Adam, those of them the run needs
    /// (<see cref="ContestantKinds.DrawnInChapterOrder"/>: the momentum net also when a contestant copies it). The
    /// hand-written, Nesterov and effective-lr nets copy net_Momentum's weights, so they differ from it in their
    /// optimizer alone. As in PyTorch, each net drawn shifts the batch order the DataLoader draws after it.
    /// </summary>
    public ChapterRun(ExperimentSettings settings, Device device) : this(settings, new RunGenerator(settings.Seed), device, drawNets: true)
    {
    }

    private ChapterRun(ExperimentSettings settings, RunGenerator generator, Device device, bool drawNets)
    {
        Settings = settings;
        Names = settings.ContestantList;
        lastFiniteLosses = Names.Select(_ => double.NaN).ToArray();
        this.generator = generator;
        (x, y, nets) = generator.Draw(() =>
        {
            var (x, y) = ChapterData.Generate(settings.Samples, device, settings.DType, settings.LabelNoise);
            if (!drawNets) return (x, y, Array.Empty<Net>());
            var drawn = new Dictionary<string, Net>();
            foreach (string name in ContestantKinds.DrawnInChapterOrder.Select(k => k.Name))
                if (Names.Contains(name) || (name == ContestantNames.Momentum && Names.Any(n => ContestantKinds.Of(n).CopiesMomentumNet)))
                    drawn[name] = Net.Build(settings.Hidden, settings.DType, device);
            var ordered = Names.Select(name => drawn.TryGetValue(name, out var own) ? own : drawn[ContestantNames.Momentum].Copy()).ToArray();
            if (!Names.Contains(ContestantNames.Momentum) && drawn.Remove(ContestantNames.Momentum, out var onlyCopied)) onlyCopied.Dispose();
            return (x, y, ordered);
        });
        if (!drawNets) return;
        contestants = NewContestants(settings, nets);
    }

    /// <summary>Each contestant's optimizer for its net, and its weight average where its kind keeps one (<see cref="ContestantKinds"/>).</summary>
    private static Contestant[] NewContestants(ExperimentSettings s, Net[] nets) =>
        s.ContestantList.Select((name, i) =>
        {
            var (kind, knobs) = (ContestantKinds.Of(name), new KnobValues(s, name));
            return new Contestant(name, nets[i], kind.NewOptimizer(nets[i].parameters(), knobs), Average: kind.NewAverage?.Invoke(nets[i], knobs));
        }).ToArray();

    /// <summary>
    /// The run a checkpoint was taken of, ready to train its next epoch. The data follows from the seed and is
    /// drawn again; the nets are built from the stored weights (no initial weights are drawn only to be
    /// overwritten), the optimizers from the settings, with the stored state; the generator continues from the
    /// stored state.
    /// </summary>
    public static ChapterRun Restore(Checkpoint checkpoint, Device device)
    {
        var settings = checkpoint.Settings;
        var run = new ChapterRun(settings, new RunGenerator(settings.Seed), device, drawNets: false);
        try
        {
            var nets = new List<Net>();
            run.nets = [];
            foreach (var c in checkpoint.Contestants)
            {
                var weights = Loaded(c.Weights, settings, device);
                try
                {
                    nets.Add(Net.FromWeights(settings.Hidden, weights));
                }
                finally
                {
                    foreach (var w in weights.Values) w.Dispose(); // the net holds copies
                }
                run.nets = [.. nets]; // so that Dispose frees what was built if a later one fails
            }
            run.contestants = NewContestants(settings, run.nets);
            for (int i = 0; i < run.nets.Length; i++)
                ContestantCheckpoint.Restore(run.contestants[i], checkpoint.Contestants[i], tensors => Loaded(tensors, settings, device));
            run.EpochsDone = checkpoint.EpochsDone;
            run.lastFiniteLosses = checkpoint.Contestants.Select(c => c.LastFiniteLoss).ToArray();
            run.generator.State = checkpoint.GeneratorState;
            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    private static Dictionary<string, Tensor> Loaded(IReadOnlyDictionary<string, SavedTensor> saved, ExperimentSettings settings, Device device) =>
        saved.ToDictionary(pair => pair.Key, pair => TorchMomentum.Training.Checkpoint.Load(pair.Value, settings.DType, device));

    /// <summary>The run's settings.</summary>
    public ExperimentSettings Settings { get; }

    /// <summary>The contestants' names, in column order (<see cref="ExperimentSettings.Contestants"/>).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Where data, nets and optimizer state live.</summary>
    public Device Device => x.device;

    /// <summary>Epochs trained so far.</summary>
    public int EpochsDone { get; private set; }

    /// <summary>Steps trained so far (whole epochs only).</summary>
    public int StepsDone => EpochsDone * Settings.StepsPerEpoch;

    /// <summary>Whether every epoch has been trained.</summary>
    public bool IsComplete => EpochsDone >= Settings.Epochs;

    /// <summary>Where the run blew up, once it has; then <see cref="Train"/> yields nothing more.</summary>
    public Divergence? Divergence { get; private set; }

    /// <summary>
    /// The training loop: trains the remaining epochs one step at a time and yields each step's losses as
    /// soon as they are known. Ends early, without yielding that step, at the first step where a loss is
    /// NaN or infinite (<see cref="Divergence"/> then says where). Stop enumerating to stop training; the
    /// run stays consistent at any step, and can be checkpointed after a step that ends an epoch.
    /// </summary>
    /// <param name="workers">Threads the contestants' steps are shared over (<see cref="LockstepTraining.Run"/>); the numbers are the same for any.</param>
    public IEnumerable<TrainingStep> Train(int workers = 1)
    {
        if (Divergence is not null) yield break;
        int step = StepsDone;
        foreach (var losses in LockstepTraining.Run(x, y, Settings.BatchSize, Settings.Epochs - EpochsDone, contestants,
            order: samples => generator.Draw(() => EpochOrder.Next(samples)), workers: workers))
        {
            int blownUp = Array.FindIndex(losses, loss => !double.IsFinite(loss));
            if (blownUp >= 0)
            {
                Divergence = new Divergence(Names[blownUp], step, lastFiniteLosses[blownUp]);
                yield break;
            }
            lastFiniteLosses = losses;
            bool endsEpoch = (step + 1) % Settings.StepsPerEpoch == 0;
            if (endsEpoch) EpochsDone++;
            yield return new TrainingStep(step, step / Settings.StepsPerEpoch, losses, endsEpoch);
            step++;
        }
    }

    /// <summary>
    /// Runs <see cref="Train"/> to its end, recording every step in <paramref name="history"/>, and returns what
    /// the run measured: the whole loop for a caller that needs nothing done between steps.
    /// </summary>
    public ExperimentResult TrainToEnd(LossHistory history)
    {
        int stepsBefore = history.Steps;
        var clock = Stopwatch.StartNew();
        foreach (var step in Train()) history.Add(step.Losses);
        return Result(history, clock.Elapsed, history.Steps - stepsBefore);
    }

    /// <summary>What the run measured, once <see cref="Train"/> has ended.</summary>
    /// <param name="history">Every step's losses, those of an earlier process included.</param>
    /// <param name="trainingTime">Wall time of this process's training.</param>
    /// <param name="stepsTimed">Steps this process trained in that time.</param>
    public ExperimentResult Result(LossHistory history, TimeSpan trainingTime, int stepsTimed) => new()
    {
        Settings = Settings,
        Losses = history,
        MaxParameterDifference = MaxParameterDifference(),
        FullDataLosses = FullDataLosses(),
        TrainingTime = trainingTime,
        StepsTimed = stepsTimed,
        Divergence = Divergence,
    };

    /// <summary>A new history holding nothing, sized for this run.</summary>
    public LossHistory NewHistory() => new(Settings, Names.Count);

    /// <summary>The data, [samples, 1] each: what a sweep's cells of this seed train on.</summary>
    internal (Tensor X, Tensor Y) Data => (x, y);

    /// <summary>The net trained by the built-in SGD with momentum (the net a sweep's cells start from).</summary>
    internal Net MomentumNet => NetOf(ContestantNames.Momentum)!;

    /// <summary>The generator's state now: before any training, where the first epoch's order will be drawn from.</summary>
    internal byte[] GeneratorState => generator.State;

    /// <summary>The net of contestant <paramref name="name"/>, or null when the run does not race it.</summary>
    public Net? NetOf(string name) => IndexOf(name) is int i and >= 0 ? nets[i] : null;

    /// <summary>The optimizer of contestant <paramref name="name"/>, or null when the run does not race it.</summary>
    public OptimizerHelper? OptimizerOf(string name) => IndexOf(name) is int i and >= 0 ? (OptimizerHelper)contestants[i].Optimizer : null;

    private int IndexOf(string name)
    {
        for (int i = 0; i < Names.Count; i++) if (Names[i] == name) return i;
        return -1;
    }

    /// <summary>
    /// What the nets learned: the run's data (section 5.5.1, which the chapter plots with plt.scatter and never
    /// again) and each contestant's prediction now, on <paramref name="points"/> inputs evenly spaced over [-1, 1].
    /// </summary>
    public Fit Fit(int points = 200)
    {
        using var scope = NewDisposeScope();
        return new Fit(Values(x.view(-1)), Values(y.view(-1)), Values(Grid(points).view(-1)), Predictions(points));
    }

    /// <summary>
    /// Each contestant's prediction now on <see cref="Fit"/>'s <paramref name="points"/> inputs, without the data: what
    /// changes as the nets train.
    /// </summary>
    public IReadOnlyList<double[]> Predictions(int points = 200)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var grid = Grid(points);
        return contestants.Select(c => c.AtJudgedWeights(net => Values(net.forward(grid).view(-1)))).ToArray();
    }

    /// <summary>
    /// Each contestant's mean squared error over all the data now, at the weights it is judged at (schedule-free's x,
    /// an average's weights: <see cref="Contestant.AtJudgedWeights"/>), in the run's dtype.
    /// </summary>
    public double[] FullDataLosses()
    {
        using var noGrad = no_grad();
        return contestants.Select(c => c.AtJudgedWeights(FullDataLoss)).ToArray();
    }

    /// <summary>
    /// mean((net(x) - y)^2) over all the data: as one <c>mse_loss</c> (the chapter's size, and PyTorch's number), or,
    /// where samples x hidden would pass 2^24 activations, as a float64 sum over chunks of rows, so that the forward
    /// never holds more than 64 MB of float32 activations however large --samples and --hidden are.
    /// </summary>
    private double FullDataLoss(Net net)
    {
        long rows = Math.Max(1, (1L << 24) / Settings.Hidden), samples = x.shape[0];
        using var scope = NewDisposeScope();
        if (samples <= rows) return nn.functional.mse_loss(net.forward(x), y).to(ScalarType.Float64).item<double>();
        double sum = 0;
        for (long start = 0; start < samples; start += rows)
        {
            using var chunk = NewDisposeScope();
            long length = Math.Min(rows, samples - start);
            sum += (net.forward(x.narrow(0, start, length)) - y.narrow(0, start, length)).pow(2).sum().to(ScalarType.Float64).item<double>();
        }
        return sum / samples;
    }

    // Inputs evenly spaced over [-1, 1], as a [points, 1] batch of the run's dtype and device.
    private Tensor Grid(int points) => linspace(-1, 1, points, dtype: Settings.DType, device: Device).unsqueeze(1);

    private static double[] Values(Tensor t) => t.to(ScalarType.Float64).cpu().data<double>().ToArray();

    /// <summary>The run's data as float64 numbers (inputs, targets), read once: what the curvature and the full-data loss work on.</summary>
    internal (double[] X, double[] Y) DataInFloat64()
    {
        using var scope = NewDisposeScope();
        return (Values(x.view(-1)), Values(y.view(-1)));
    }

    /// <summary>Largest |hand-written - built-in momentum| over all parameters, now; null unless the run races both.</summary>
    public double? MaxParameterDifference() =>
        NetOf(ContestantNames.Handwritten) is { } handwritten && NetOf(ContestantNames.Momentum) is { } momentum ? Net.MaxDifference(handwritten, momentum) : null;

    /// <summary>
    /// A checkpoint of the run as it is now (take it after a step that ends an epoch, or before training).
    /// </summary>
    /// <param name="checkpointEvery">How often the run checkpoints, stored so that a resumed run goes on doing so.</param>
    /// <param name="rowsSha256">The hash of the per-step record written so far, so a resume can check it continues those rows.</param>
    public Checkpoint Checkpoint(int checkpointEvery, byte[] rowsSha256)
    {
        var states = contestants.Select((c, i) => ContestantCheckpoint.Save(c, lastFiniteLosses[i])).ToList();
        return new Checkpoint(Settings, EpochsDone, generator.State, states, checkpointEvery, rowsSha256);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var c in contestants) c.Optimizer.Dispose();
        foreach (var average in contestants.Select(c => c.Average).OfType<AveragedModel>())
        {
            average.Module.Dispose();
            average.Dispose();
        }
        foreach (var net in nets) net.Dispose();
        x.Dispose();
        y.Dispose();
    }
}
