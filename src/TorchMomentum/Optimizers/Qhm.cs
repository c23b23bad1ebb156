using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;

namespace TorchMomentum.Optimizers;

/// <summary>
/// Quasi-hyperbolic momentum (Ma and Yarats 2019, "Quasi-hyperbolic momentum and Adam for deep learning"), as its
/// authors' <c>qhoptim/pyt/qhm.py</c> computes it, per parameter p with gradient g:
/// <code>
///   g = g + weight_decay * p
///   b = beta * b + (1 - beta) * g                 (b starts at 0: the state momentum_buffer)
///   p = p - lr * nu * b - lr * (1 - nu) * g
/// </code>
/// An average of a plain SGD step and a momentum step. nu = 1 is heavy ball at lr (1 - beta), nu = beta is
/// Nesterov's momentum, nu = 0 plain SGD. Its DC gain, the effective learning rate it equals at small learning
/// rates in the noise-dominated regime, is lr (docs/optimizer.md).
/// </summary>
public sealed class Qhm : FamilyOptimizer<Qhm.Options>, IMomentum
{
    /// <summary>The state's one field.</summary>
    public const string MomentumBuffer = "momentum_buffer";

    /// <summary>QHM over one group of parameters.</summary>
    /// <param name="parameters">The parameters to optimize.</param>
    /// <param name="lr">Learning rate alpha, &gt; 0.</param>
    /// <param name="beta">The momentum buffer's decay, in [0, 1) (qhoptim's <c>momentum</c>; its paper suggests 0.999).</param>
    /// <param name="nu">The immediate discount: the share of the momentum buffer in the step, in [0, 1] (0.7 suggested).</param>
    /// <param name="weight_decay">L2 penalty added to the gradient, &gt;= 0.</param>
    /// <exception cref="ArgumentException">An argument out of its range, named.</exception>
    public Qhm(IEnumerable<Parameter> parameters, double lr, double beta = 0.999, double nu = 0.7, double weight_decay = 0)
        : this([new ParamGroup<Options>(parameters)], lr, beta, nu, weight_decay) { }

    /// <summary>QHM over parameter groups; a group's own options override these defaults.</summary>
    public Qhm(IEnumerable<ParamGroup<Options>> groups, double lr, double beta = 0.999, double nu = 0.7, double weight_decay = 0)
        : base(groups, new Options { LearningRate = lr, beta = beta, nu = nu, weight_decay = weight_decay }) { }

    /// <summary>The default beta, which momentum-cycling schedulers set.</summary>
    public double Momentum { get => Defaults.beta!.Value; set => Defaults.beta = value; }

    private protected override void Complete(Options o, Options d)
    {
        o.beta ??= d.beta;
        o.nu ??= d.nu;
        o.weight_decay ??= d.weight_decay;
    }

    private protected override void Validate(Options o)
    {
        CheckLearningRate(o);
        CheckBeta("beta", o.beta!.Value);
        ParameterGroups.Check("nu", new Validation.Interval(0, 1), o.nu!.Value);
        ParameterGroups.Check("weight_decay", new Validation.Interval(0), o.weight_decay!.Value);
    }

    private protected override IReadOnlyList<string> StateNames(Options o) => [MomentumBuffer];

    private protected override void Update(Parameter p, Tensor g, NamedState state, Options o)
    {
        double lr = o.LearningRate!.Value, beta = o.beta!.Value, nu = o.nu!.Value;
        if (o.weight_decay!.Value != 0) g = g.add(p, alpha: factors.ScalarOf(o.weight_decay.Value));
        var b = state[MomentumBuffer] ?? state.Start(MomentumBuffer, zeros_like(p));
        b.mul_(factors.Of(beta, p)).add_(g, alpha: factors.ScalarOf(1 - beta));
        p.add_(b, alpha: factors.ScalarOf(-lr * nu));
        p.add_(g, alpha: factors.ScalarOf(-lr * (1 - nu)));
    }

    /// <summary>QHM's hyperparameters for one group; an unset one comes from the optimizer's defaults.</summary>
    public sealed class Options : OptimizerOptions
    {
        /// <summary>The momentum buffer's decay, in [0, 1).</summary>
        public double? beta;
        /// <summary>The immediate discount, in [0, 1].</summary>
        public double? nu;
        /// <summary>L2 penalty, &gt;= 0.</summary>
        public double? weight_decay;

        /// <inheritdoc />
        public override void SaveStateDict(BinaryWriter writer)
        {
            base.SaveStateDict(writer);
            writer.Write(beta!.Value);
            writer.Write(nu!.Value);
            writer.Write(weight_decay!.Value);
        }

        /// <inheritdoc />
        public override void LoadStateDict(BinaryReader reader)
        {
            base.LoadStateDict(reader);
            beta = reader.ReadDouble();
            nu = reader.ReadDouble();
            weight_decay = reader.ReadDouble();
        }

        /// <inheritdoc />
        public override void LoadStateDict(OptimizerOptions source)
        {
            base.LoadStateDict(source);
            var s = (Options)source;
            (beta, nu, weight_decay) = (s.beta, s.nu, s.weight_decay);
        }
    }
}
