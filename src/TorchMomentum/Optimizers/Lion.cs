using System.Numerics;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;

namespace TorchMomentum.Optimizers;

/// <summary>
/// Lion, EvoLved Sign Momentum (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"), as its
/// authors' <c>lion/lion_pytorch.py</c> (google/automl) computes it, per parameter p with gradient g:
/// <code>
///   p = p * (1 - lr * weight_decay)
///   c = beta1 * m + (1 - beta1) * g               (m starts at 0: the state exp_avg)
///   p = p - lr * sign(c)                          (sign(0) = 0, as PyTorch's)
///   m = beta2 * m + (1 - beta2) * g
/// </code>
/// Every coordinate moves by exactly lr or not at all: a non-linear step, which no linear filter of the gradients
/// is. Its authors report it prefers large batches; its lr is usually 3-10 times smaller than AdamW's.
/// On the CPU each parameter is stepped in one pass over its elements (<see cref="Loop{T}"/>), the same bits as the
/// seven tensor operations above; <c>fused: false</c> keeps the operations.
/// </summary>
public sealed class Lion : FamilyOptimizer<Lion.Options>, IBetas
{
    /// <summary>The state's one field.</summary>
    public const string ExpAvg = "exp_avg";

    /// <summary>Lion over one group of parameters.</summary>
    /// <param name="parameters">The parameters to optimize.</param>
    /// <param name="lr">Learning rate, &gt; 0 (the reference's default 1e-4).</param>
    /// <param name="beta1">The interpolation of the update's direction, in [0, 1).</param>
    /// <param name="beta2">The momentum's decay, in [0, 1).</param>
    /// <param name="weight_decay">Decoupled weight decay, &gt;= 0.</param>
    /// <param name="fused">Step each dense CPU parameter in one pass over its elements; the same bits as the tensor operations.</param>
    /// <exception cref="ArgumentException">An argument out of its range, named.</exception>
    public Lion(IEnumerable<Parameter> parameters, double lr = 1e-4, double beta1 = 0.9, double beta2 = 0.99, double weight_decay = 0, bool fused = true)
        : this([new ParamGroup<Options>(parameters)], lr, beta1, beta2, weight_decay, fused) { }

    /// <summary>Lion over parameter groups; a group's own options override these defaults.</summary>
    public Lion(IEnumerable<ParamGroup<Options>> groups, double lr = 1e-4, double beta1 = 0.9, double beta2 = 0.99, double weight_decay = 0, bool fused = true)
        : base(groups, new Options { LearningRate = lr, beta1 = beta1, beta2 = beta2, weight_decay = weight_decay }) => this.fused = fused;

    private readonly bool fused;

    /// <summary>The default betas, which momentum-cycling schedulers set.</summary>
    public (double, double) Betas
    {
        get => (Defaults.beta1!.Value, Defaults.beta2!.Value);
        set => (Defaults.beta1, Defaults.beta2) = value;
    }

    private protected override void Complete(Options o, Options d)
    {
        o.beta1 ??= d.beta1;
        o.beta2 ??= d.beta2;
        o.weight_decay ??= d.weight_decay;
    }

    private protected override void Validate(Options o)
    {
        CheckLearningRate(o);
        CheckBeta("beta1", o.beta1!.Value);
        CheckBeta("beta2", o.beta2!.Value);
        ParameterGroups.Check("weight_decay", new Validation.Interval(0), o.weight_decay!.Value);
    }

    private protected override IReadOnlyList<string> StateNames(Options o) => [ExpAvg];

    private protected override void Update(Parameter p, Tensor g, NamedState state, Options o)
    {
        double lr = o.LearningRate!.Value, beta1 = o.beta1!.Value, beta2 = o.beta2!.Value;
        double weightDecay = o.weight_decay!.Value;
        var m = state[ExpAvg] ?? state.Start(ExpAvg, zeros_like(p));
        if (fused && CpuLoop.Fits(p, g, m))
        {
            if (p.dtype == ScalarType.Float32) Loop<float>(p, g, m, lr, beta1, beta2, weightDecay);
            else Loop<double>(p, g, m, lr, beta1, beta2, weightDecay);
            return;
        }
        p.mul_(factors.Of(1 - lr * weightDecay, p));
        using (var update = m.mul(factors.Of(beta1, p)).add_(g.mul(factors.Of(1 - beta1, p)), Scalars.One))
            p.add_(update.sign_(), alpha: factors.ScalarOf(-lr));
        m.mul_(factors.Of(beta2, p)).add_(g, alpha: factors.ScalarOf(1 - beta2));
    }

    /// <summary>
    /// The update above in one pass: per element, the operations of the tensor form in its order, each rounded as
    /// libtorch rounds it (<see cref="CpuLoop"/>); sign(c) * lr is exact, so p + sign(c) * (-lr) rounds once, as
    /// libtorch's fused <c>add_(sign, alpha: -lr)</c> does.
    /// </summary>
    private static void Loop<T>(Tensor pt, Tensor gt, Tensor mt, double lr, double beta1, double beta2, double weightDecay)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> p = CpuLoop.Of<T>(pt), g = CpuLoop.Of<T>(gt), m = CpuLoop.Of<T>(mt);
        T decay = CpuLoop.In<T>(1 - lr * weightDecay), b1 = CpuLoop.In<T>(beta1), c1 = CpuLoop.In<T>(1 - beta1);
        T step = CpuLoop.In<T>(-lr), b2 = CpuLoop.In<T>(beta2), c2 = CpuLoop.In<T>(1 - beta2);
        Span<Vector<T>> pv = CpuLoop.Vectors(p), gv = CpuLoop.Vectors(g), mv = CpuLoop.Vectors(m);
        Vector<T> vDecay = new(decay), vB1 = new(b1), vC1 = new(c1), vStep = new(step), vB2 = new(b2), vC2 = new(c2);
        for (int k = 0; k < pv.Length; k++)
        {
            var c = mv[k] * vB1 + gv[k] * vC1;
            pv[k] = pv[k] * vDecay + CpuLoop.Sign(c) * vStep;
            mv[k] = CpuLoop.Fma(gv[k], vC2, mv[k] * vB2);
        }
        for (int j = pv.Length * Vector<T>.Count; j < p.Length; j++)
        {
            var c = m[j] * b1 + g[j] * c1;
            p[j] = p[j] * decay + CpuLoop.Sign(c) * step;
            m[j] = T.FusedMultiplyAdd(g[j], c2, m[j] * b2);
        }
    }

    /// <summary>Lion's hyperparameters for one group; an unset one comes from the optimizer's defaults.</summary>
    public sealed class Options : OptimizerOptions
    {
        /// <summary>The update's interpolation, in [0, 1).</summary>
        public double? beta1;
        /// <summary>The momentum's decay, in [0, 1).</summary>
        public double? beta2;
        /// <summary>Decoupled weight decay, &gt;= 0.</summary>
        public double? weight_decay;

        /// <inheritdoc />
        public override void SaveStateDict(BinaryWriter writer)
        {
            base.SaveStateDict(writer);
            writer.Write(beta1!.Value);
            writer.Write(beta2!.Value);
            writer.Write(weight_decay!.Value);
        }

        /// <inheritdoc />
        public override void LoadStateDict(BinaryReader reader)
        {
            base.LoadStateDict(reader);
            (beta1, beta2, weight_decay) = (reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble());
        }

        /// <inheritdoc />
        public override void LoadStateDict(OptimizerOptions source)
        {
            base.LoadStateDict(source);
            var s = (Options)source;
            (beta1, beta2, weight_decay) = (s.beta1, s.beta2, s.weight_decay);
        }
    }
}
