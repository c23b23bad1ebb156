using TorchMomentum.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;

namespace TorchMomentum.Training;

/// <summary>
/// One kind of contestant and everything the project knows of it, in one entry: adding an optimizer (AdamW, Lion) is
/// one more entry in <see cref="ContestantKinds.All"/>.
/// </summary>
/// <param name="Name">What --contestants, the CSV columns and the legends call it.</param>
/// <param name="DrawOrder">Its net's place among the nets the chapter's program draws (net_SGD 0, net_Momentum 1,
/// net_RMSprop 2, net_Adam 3); null for one that starts from a copy of the momentum net, so that it differs from it
/// in its optimizer alone.</param>
/// <param name="NewOptimizer">Its optimizer for a net's parameters, with the run's settings (the chapter's hyperparameters, section 5.6).</param>
/// <param name="KeepsMomentumBuffer">Whether its optimizer keeps a momentum buffer (or the chapter's velocity) per
/// parameter, which a checkpoint saves.</param>
/// <param name="Averages">The running averages an adaptive optimizer keeps, by their PyTorch names, each read from its
/// state; a checkpoint saves them with the step count. Empty for the SGD family.</param>
/// <param name="Color">Its colour in every figure and on the page, #rrggbb (matplotlib's tab10, as the chapter's figures).</param>
/// <param name="Dashed">Whether its curve is dashed: one that lies on top of another's.</param>
public sealed record ContestantKind(string Name, int? DrawOrder, Func<IEnumerable<Parameter>, ExperimentSettings, OptimizerHelper> NewOptimizer,
    bool KeepsMomentumBuffer, IReadOnlyDictionary<string, Func<OptimizerState, Tensor>> Averages, string Color, bool Dashed = false)
{
    /// <summary>Whether its net is a copy of the momentum net rather than one of its own drawn from the generator.</summary>
    public bool CopiesMomentumNet => DrawOrder is null;
}

/// <summary>
/// The contestants a run can race: the chapter's four nets of section 5.6 (net_SGD, net_Momentum and the commented-out
/// net_RMSprop and net_Adam), section 5.5's hand-written step, and two controls: SGD with Nesterov momentum, and
/// plain SGD at momentum's effective learning rate lr/(1 - momentum).
/// </summary>
public static class ContestantKinds
{
    private static readonly IReadOnlyDictionary<string, Func<OptimizerState, Tensor>> None = new Dictionary<string, Func<OptimizerState, Tensor>>();

    /// <summary>Every kind, in the order --help lists them.</summary>
    public static readonly IReadOnlyList<ContestantKind> All =
    [
        // torch.optim.SGD(lr): the chapter's net_SGD.
        new(ContestantNames.Sgd, 0, (p, s) => SGD(p, s.LearningRate), false, None, "#ff7f0e"),
        // torch.optim.SGD(lr, momentum): net_Momentum.
        new(ContestantNames.Momentum, 1, (p, s) => SGD(p, s.LearningRate, s.Momentum), true, None, "#1f77b4"),
        // The chapter's hand-written step (section 5.5.1), on top of net_Momentum's curve.
        new(ContestantNames.Handwritten, null, (p, s) => new MomentumSgd(p, s.LearningRate, s.Momentum, formulation: MomentumFormulation.Chapter),
            true, None, "#2ca02c", Dashed: true),
        new(ContestantNames.Nesterov, null, (p, s) => SGD(p, s.LearningRate, s.Momentum, nesterov: true), true, None, "#9467bd"),
        // torch.optim.RMSprop(lr, alpha=0.9): the commented-out net_RMSprop.
        new(ContestantNames.RmsProp, 2, (p, s) => RMSProp(p, s.LearningRate, alpha: 0.9), false,
            new Dictionary<string, Func<OptimizerState, Tensor>> { ["square_avg"] = state => ((RMSProp.State)state).square_avg }, "#d62728"),
        // torch.optim.Adam(lr, betas=(0.9, 0.99)): the commented-out net_Adam.
        new(ContestantNames.Adam, 3, (p, s) => Adam(p, s.LearningRate, beta1: 0.9, beta2: 0.99), false,
            new Dictionary<string, Func<OptimizerState, Tensor>> { ["exp_avg"] = state => ((Adam.State)state).exp_avg, ["exp_avg_sq"] = state => ((Adam.State)state).exp_avg_sq },
            "#8c564b"),
        // Plain SGD at the step size momentum settles at, lr/(1 - momentum) (section 5.3), without momentum.
        new(ContestantNames.SgdEffective, null, (p, s) => SGD(p, Theory.ConstantGradientVelocity.Limit(s.LearningRate, s.Momentum, g: 1)), false, None, "#e377c2"),
    ];

    private static readonly Dictionary<string, ContestantKind> ByName = All.ToDictionary(k => k.Name);

    /// <summary>The kind named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No contestant has that name.</exception>
    public static ContestantKind Of(string name) => ByName.TryGetValue(name, out var kind) ? kind : throw new ArgumentException($"no contestant '{name}'", nameof(name));

    /// <summary>The kinds whose nets are drawn from the generator, in the chapter program's order.</summary>
    public static IEnumerable<ContestantKind> DrawnInChapterOrder => All.Where(k => k.DrawOrder is not null).OrderBy(k => k.DrawOrder);
}
