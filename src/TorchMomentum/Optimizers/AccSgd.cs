using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;

namespace TorchMomentum.Optimizers;

/// <summary>
/// Accelerated SGD (Jain, Kakade, Kidambi, Netrapalli and Sidford 2018, "Accelerating Stochastic Gradient
/// Descent for Least Squares Regression"; Kidambi et al. 2018, "On the insufficiency of existing momentum schemes
/// for stochastic optimization"), as its authors' <c>AccSGD.py</c> computes it, per parameter p with gradient g,
/// kappa the long-step ratio, xi the statistical advantage and c the small constant:
/// <code>
///   L = lr * kappa / c;  alpha = 1 - c^2 xi / kappa;  B = 1 - alpha;  zeta = c / (c + B)    (B as the reference: 1 - alpha)
///   g = g + weight_decay * p
///   w = B * ((1/B - 1) * w - L * g + p)           (w starts as a copy of p: the state momentum_buffer)
///   p = zeta * (p - lr * g) + (1 - zeta) * w
/// </code>
/// A short step from p and a long step from the running point w, mixed. It is QHM in another parametrization
/// (qhoptim's from_accsgd); its DC gain is about 4.5 lr at kappa 1000, xi 10, c 0.7 (docs/optimizer.md).
/// </summary>
public sealed class AccSgd : FamilyOptimizer<AccSgd.Options>
{
    /// <summary>The state's one field.</summary>
    public const string MomentumBuffer = "momentum_buffer";

    /// <summary>AccSGD over one group of parameters.</summary>
    /// <param name="parameters">The parameters to optimize.</param>
    /// <param name="lr">The short step, &gt; 0.</param>
    /// <param name="kappa">The ratio of the long step to the short one, the condition number it assumes: &gt;= 1.</param>
    /// <param name="xi">The statistical advantage, in (0, sqrt(kappa)] (the paper's condition xi &lt;= sqrt(kappa)).</param>
    /// <param name="small_const">The reference's <c>smallConst</c>, in (0, 1].</param>
    /// <param name="weight_decay">L2 penalty added to the gradient, &gt;= 0.</param>
    /// <exception cref="ArgumentException">An argument out of its range, named.</exception>
    public AccSgd(IEnumerable<Parameter> parameters, double lr, double kappa = 1000, double xi = 10, double small_const = 0.7, double weight_decay = 0)
        : this([new ParamGroup<Options>(parameters)], lr, kappa, xi, small_const, weight_decay) { }

    /// <summary>AccSGD over parameter groups; a group's own options override these defaults.</summary>
    public AccSgd(IEnumerable<ParamGroup<Options>> groups, double lr, double kappa = 1000, double xi = 10, double small_const = 0.7, double weight_decay = 0)
        : base(groups, new Options { LearningRate = lr, kappa = kappa, xi = xi, small_const = small_const, weight_decay = weight_decay }) { }

    private protected override void Complete(Options o, Options d)
    {
        o.kappa ??= d.kappa;
        o.xi ??= d.xi;
        o.small_const ??= d.small_const;
        o.weight_decay ??= d.weight_decay;
    }

    private protected override void Validate(Options o)
    {
        CheckLearningRate(o);
        ParameterGroups.Check("kappa", new Validation.Interval(1), o.kappa!.Value);
        ParameterGroups.Check("xi", new Validation.Interval(0, Math.Sqrt(o.kappa.Value), MinOpen: true), o.xi!.Value);
        ParameterGroups.Check("small_const", new Validation.Interval(0, 1, MinOpen: true), o.small_const!.Value);
        ParameterGroups.Check("weight_decay", new Validation.Interval(0), o.weight_decay!.Value);
    }

    private protected override IReadOnlyList<string> StateNames(Options o) => [MomentumBuffer];

    private protected override void Update(Parameter p, Tensor g, NamedState state, Options o)
    {
        double lr = o.LearningRate!.Value, c = o.small_const!.Value;
        double largeLr = lr * o.kappa!.Value / c;
        double alpha = 1.0 - c * c * o.xi!.Value / o.kappa.Value;
        double b = 1.0 - alpha;
        double zeta = c / (c + b);
        if (o.weight_decay!.Value != 0) g = g.add(p, alpha: factors.ScalarOf(o.weight_decay.Value));
        var w = state[MomentumBuffer] ?? state.Start(MomentumBuffer, p);
        w.mul_(factors.Of(1.0 / b - 1.0, p));
        w.add_(g, alpha: factors.ScalarOf(-largeLr));
        w.add_(p, Scalars.One);
        w.mul_(factors.Of(b, p));
        p.add_(g, alpha: factors.ScalarOf(-lr));
        p.mul_(factors.Of(zeta, p));
        p.add_(w, alpha: factors.ScalarOf(1.0 - zeta));
    }

    /// <summary>AccSGD's hyperparameters for one group; an unset one comes from the optimizer's defaults.</summary>
    public sealed class Options : OptimizerOptions
    {
        /// <summary>Long-step ratio, &gt;= 1.</summary>
        public double? kappa;
        /// <summary>Statistical advantage, in (0, sqrt(kappa)].</summary>
        public double? xi;
        /// <summary>The small constant, in (0, 1].</summary>
        public double? small_const;
        /// <summary>L2 penalty, &gt;= 0.</summary>
        public double? weight_decay;

        /// <inheritdoc />
        public override void SaveStateDict(BinaryWriter writer)
        {
            base.SaveStateDict(writer);
            writer.Write(kappa!.Value);
            writer.Write(xi!.Value);
            writer.Write(small_const!.Value);
            writer.Write(weight_decay!.Value);
        }

        /// <inheritdoc />
        public override void LoadStateDict(BinaryReader reader)
        {
            base.LoadStateDict(reader);
            (kappa, xi, small_const, weight_decay) = (reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble());
        }

        /// <inheritdoc />
        public override void LoadStateDict(OptimizerOptions source)
        {
            base.LoadStateDict(source);
            var s = (Options)source;
            (kappa, xi, small_const, weight_decay) = (s.kappa, s.xi, s.small_const, s.weight_decay);
        }
    }
}
