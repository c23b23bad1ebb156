using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;
using TorchSharp;

namespace TorchMomentum.Training;

/// <summary>
/// One kind of contestant and everything the project knows of it, in one entry: adding an optimizer is one more
/// entry in <see cref="ContestantKinds.All"/> (AdamW took one).
/// </summary>
/// <param name="Name">What --contestants, the CSV columns and the legends call it.</param>
/// <param name="DrawOrder">Its net's place among the nets the chapter's program draws (net_SGD 0, net_Momentum 1,
/// net_RMSprop 2, net_Adam 3); null for one that starts from a copy of the momentum net, so that it differs from it
/// in its optimizer alone and draws nothing from the generator.</param>
/// <param name="NewOptimizer">Its optimizer for a net's parameters, with the run's knobs (the chapter's hyperparameters, section 5.6).</param>
/// <param name="Knobs">The settings of its optimizer a run may change (--contestant-settings), with their defaults.</param>
/// <param name="Kept">What a checkpoint keeps of its state besides the weights, by name.</param>
/// <param name="Color">Its colour in every figure and on the page, #rrggbb (matplotlib's tab10, then tab20, as the chapter's figures).</param>
/// <param name="Dashed">Whether its curve is dashed: one that lies on top of another's.</param>
/// <param name="NewAverage">For a contestant judged at a running average of its weights: that average, built over
/// its net. Its losses.csv column is then the average's mini-batch loss before each step, and fit.png and the
/// full-data loss show the average.</param>
public sealed record ContestantKind(string Name, int? DrawOrder, Func<IEnumerable<Parameter>, KnobValues, OptimizerHelper> NewOptimizer,
    IReadOnlyList<Knob> Knobs, IReadOnlyList<KeptState> Kept, string Color, bool Dashed = false, Func<Net, KnobValues, AveragedModel>? NewAverage = null)
{
    /// <summary>Whether its net is a copy of the momentum net rather than one of its own drawn from the generator.</summary>
    public bool CopiesMomentumNet => DrawOrder is null;

    /// <summary>Builds its optimizer (and average) once on a throwaway one-number parameter: the library checks every knob's range.</summary>
    /// <exception cref="ArgumentException">A knob out of its range, named by the library's parameter name.</exception>
    internal void Probe(ExperimentSettings settings)
    {
        var knobs = new KnobValues(settings, Name);
        // Built from zeros, not drawn: a check must not move the global generator.
        var zeros = Net.ParameterShapes(1).ToDictionary(p => p.Name, p => torch.zeros(p.Shape, dtype: settings.DType));
        using var net = Net.FromWeights(1, zeros);
        foreach (var t in zeros.Values) t.Dispose();
        using (NewOptimizer(net.parameters(), knobs)) { }
        if (NewAverage is null) return;
        using var average = NewAverage(net, knobs);
        average.Module.Dispose();
    }
}

/// <summary>
/// The contestants a run can race: the chapter's four nets of section 5.6 (net_SGD, net_Momentum and the commented-out
/// net_RMSprop and net_Adam), section 5.5's hand-written step, two controls (SGD with Nesterov momentum, and plain SGD
/// at momentum's effective learning rate lr/(1 - momentum)), and momentum's family (docs/optimizer.md).
/// </summary>
public static class ContestantKinds
{
    private static Knob Lr(Func<ExperimentSettings, double> value, string rule) => new("lr", value, Rule: rule);
    private static Knob Fixed(string name, double value) => new(name, _ => value);

    /// <summary>Every kind, in the order --help lists them.</summary>
    public static readonly IReadOnlyList<ContestantKind> All =
    [
        // torch.optim.SGD(lr): the chapter's net_SGD.
        new(ContestantNames.Sgd, 0, (p, k) => SGD(p, k.Settings.LearningRate), [], [], "#ff7f0e"),
        // torch.optim.SGD(lr, momentum): net_Momentum.
        new(ContestantNames.Momentum, 1, (p, k) => SGD(p, k.Settings.LearningRate, k.Settings.Momentum), [], [Kept.MomentumBuffer], "#1f77b4"),
        // The chapter's hand-written step (section 5.5.1), on top of net_Momentum's curve.
        new(ContestantNames.Handwritten, null, (p, k) => new MomentumSgd(p, k.Settings.LearningRate, k.Settings.Momentum, formulation: MomentumFormulation.Chapter),
            [], [Kept.MomentumBuffer], "#2ca02c", Dashed: true),
        new(ContestantNames.Nesterov, null, (p, k) => SGD(p, k.Settings.LearningRate, k.Settings.Momentum, nesterov: true), [], [Kept.MomentumBuffer], "#9467bd"),
        // torch.optim.RMSprop(lr, alpha=0.9): the commented-out net_RMSprop.
        new(ContestantNames.RmsProp, 2, (p, k) => RMSProp(p, k.Settings.LearningRate, alpha: 0.9), [],
            [Kept.Step<RMSProp.State>(s => s.step, (s, v) => s.step = v), Kept.Field<RMSProp.State>("square_avg", s => s.square_avg)], "#d62728"),
        // torch.optim.Adam(lr, betas=(0.9, 0.99)): the commented-out net_Adam.
        new(ContestantNames.Adam, 3, (p, k) => Adam(p, k.Settings.LearningRate, beta1: 0.9, beta2: 0.99), [],
            [Kept.Step<Adam.State>(s => s.step, (s, v) => s.step = v), Kept.Field<Adam.State>("exp_avg", s => s.exp_avg), Kept.Field<Adam.State>("exp_avg_sq", s => s.exp_avg_sq)],
            "#8c564b"),
        // Plain SGD at the step size momentum settles at, lr/(1 - momentum) (section 5.3), without momentum.
        new(ContestantNames.SgdEffective, null, (p, k) => SGD(p, Theory.ConstantGradientVelocity.Limit(k.Settings.LearningRate, k.Settings.Momentum, g: 1)), [], [], "#e377c2"),
        // QHM at heavy ball's DC gain: lr/(1 - momentum) (0.05 at the chapter's), its authors' beta and nu.
        new(ContestantNames.Qhm, null, (p, k) => new Qhm(p, k["lr"], k["beta"], k["nu"]),
            [Lr(s => Theory.ConstantGradientVelocity.Limit(s.LearningRate, s.Momentum, g: 1), "lr/(1-momentum)"), Fixed("beta", 0.9), Fixed("nu", 0.7)],
            [.. Kept.Named(Qhm.MomentumBuffer)], "#17becf"),
        new(ContestantNames.AggMo, null, (p, k) => new AggMo(p, k["lr"], k.List("betas")),
            [Lr(s => s.LearningRate, "lr"), new("betas", _ => double.NaN, IsList: true) { DefaultList = _ => [.. AggMo.DefaultBetas] }],
            [.. Enumerable.Range(0, ContestantSettings.MaxListLength).SelectMany(i => Kept.Named(AggMo.BufferName(i)))], "#bcbd22"),
        new(ContestantNames.AccSgd, null, (p, k) => new AccSgd(p, k["lr"], k["kappa"], k["xi"], k["small_const"]),
            [Lr(s => s.LearningRate, "lr"), Fixed("kappa", 1000), Fixed("xi", 10), Fixed("small_const", 0.7)], [.. Kept.Named(AccSgd.MomentumBuffer)], "#7f7f7f"),
        // Trains at y; judged (fit.png, the full-data loss) at x.
        new(ContestantNames.ScheduleFree, null, (p, k) => new ScheduleFreeSgd(p, k["lr"], k["momentum"], warmup_steps: (long)k["warmup_steps"], r: k["r"], weight_lr_power: k["weight_lr_power"]),
            [Fixed("lr", 0.1), Fixed("momentum", 0.9), Fixed("warmup_steps", 0), Fixed("r", 0), Fixed("weight_lr_power", 2)],
            [.. Kept.Named(ScheduleFreeSgd.Z, ScheduleFreeSgd.X, ScheduleFreeSgd.Y),
                Kept.GroupNumber<ScheduleFreeSgd.Options>("k", o => o.k, (o, v) => o.k = (long)v),
                Kept.GroupNumber<ScheduleFreeSgd.Options>("weight_sum", o => o.weight_sum, (o, v) => o.weight_sum = v),
                Kept.GroupNumber<ScheduleFreeSgd.Options>("lr_max", o => o.lr_max, (o, v) => o.lr_max = v)], "#ff9896"),
        new(ContestantNames.Lion, null, (p, k) => new Lion(p, k["lr"], k["beta1"], k["beta2"], k["weight_decay"]),
            [Fixed("lr", 0.001), Fixed("beta1", 0.9), Fixed("beta2", 0.99), Fixed("weight_decay", 0)], [.. Kept.Named(Lion.ExpAvg)], "#393b79"),
        // Heavy ball at the run's lr and momentum, judged at an exponential average of its weights.
        new(ContestantNames.Ema, null, (p, k) => SGD(p, k.Settings.LearningRate, k.Settings.Momentum), [Fixed("decay", 0.99)],
            [Kept.MomentumBuffer, .. Kept.Average], "#aec7e8", NewAverage: (net, k) => new AveragedModel(net, net.Copy(), k["decay"])),
        // TorchSharp's AdamW at PyTorch's defaults (betas 0.9, 0.999, eps 1e-8, weight decay 0.01), but lr 0.01.
        new(ContestantNames.AdamW, null, (p, k) => AdamW(p, ParameterGroups.PositiveLearningRate(k["lr"]), beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01),
            [Lr(s => s.LearningRate, "lr")],
            [Kept.Step<AdamW.State>(s => s.step, (s, v) => s.step = v), Kept.Field<AdamW.State>("exp_avg", s => s.exp_avg), Kept.Field<AdamW.State>("exp_avg_sq", s => s.exp_avg_sq)],
            "#c49c94"),
    ];

    private static readonly Dictionary<string, ContestantKind> ByName = All.ToDictionary(k => k.Name);

    /// <summary>The kind named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No contestant has that name.</exception>
    public static ContestantKind Of(string name) => ByName.TryGetValue(name, out var kind) ? kind : throw new ArgumentException($"no contestant '{name}'", nameof(name));

    /// <summary>The kinds whose nets are drawn from the generator, in the chapter program's order.</summary>
    public static IEnumerable<ContestantKind> DrawnInChapterOrder => All.Where(k => k.DrawOrder is not null).OrderBy(k => k.DrawOrder);
}
