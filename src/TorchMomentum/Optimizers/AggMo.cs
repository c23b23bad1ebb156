using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;

namespace TorchMomentum.Optimizers;

/// <summary>
/// Aggregated momentum (Lucas, Sun, Zemel and Grosse 2019, "Aggregated Momentum: Stability Through Passive
/// Damping"), as its authors' <c>src/aggmo.py</c> computes it, per parameter p with gradient g and K betas:
/// <code>
///   g = g + weight_decay * p
///   for each beta_i, in order:                    (v_i starts at 0: the state momentum_buffer_i)
///       v_i = beta_i * v_i + g
///       p = p - (lr / K) * v_i                    (buffer by buffer, as the reference)
/// </code>
/// K heavy balls averaged: the small betas damp the oscillation of the large ones. Its DC gain is
/// (lr / K) * sum_i 1/(1 - beta_i): 37 lr at the default betas 0, 0.9, 0.99 (docs/optimizer.md).
/// </summary>
public sealed class AggMo : FamilyOptimizer<AggMo.Options>
{
    /// <summary>AggMo over one group of parameters.</summary>
    /// <param name="parameters">The parameters to optimize.</param>
    /// <param name="lr">Learning rate, &gt; 0.</param>
    /// <param name="betas">The damping vector, each in [0, 1), at least one (default 0, 0.9, 0.99).</param>
    /// <param name="weight_decay">L2 penalty added to the gradient, &gt;= 0.</param>
    /// <exception cref="ArgumentException">An argument out of its range, named.</exception>
    public AggMo(IEnumerable<Parameter> parameters, double lr, IReadOnlyList<double>? betas = null, double weight_decay = 0)
        : this([new ParamGroup<Options>(parameters)], lr, betas, weight_decay) { }

    /// <summary>AggMo over parameter groups; a group's own options override these defaults.</summary>
    public AggMo(IEnumerable<ParamGroup<Options>> groups, double lr, IReadOnlyList<double>? betas = null, double weight_decay = 0)
        : base(groups, new Options { LearningRate = lr, betas = [.. betas ?? DefaultBetas], weight_decay = weight_decay }) { }

    /// <summary>The reference's damping vector.</summary>
    public static readonly IReadOnlyList<double> DefaultBetas = [0.0, 0.9, 0.99];

    /// <summary>The name of the state of the i-th beta's buffer.</summary>
    public static string BufferName(int i) => $"momentum_buffer_{i}";

    private protected override void Complete(Options o, Options d)
    {
        o.betas ??= [.. d.betas!];
        o.weight_decay ??= d.weight_decay;
    }

    private protected override void Validate(Options o)
    {
        CheckLearningRate(o);
        if (o.betas!.Length == 0) throw new ArgumentException("betas must hold at least one beta in [0, 1) (got none)", "betas");
        foreach (double beta in o.betas) CheckBeta("betas", beta);
        ParameterGroups.Check("weight_decay", new Validation.Interval(0), o.weight_decay!.Value);
    }

    private protected override IReadOnlyList<string> StateNames(Options o) => [.. Enumerable.Range(0, o.betas!.Length).Select(BufferName)];

    private protected override void Update(Parameter p, Tensor g, NamedState state, Options o)
    {
        var betas = o.betas!;
        if (o.weight_decay!.Value != 0) g = g.add(p, alpha: factors.ScalarOf(o.weight_decay.Value));
        var step = factors.ScalarOf(-(o.LearningRate!.Value / betas.Length));
        for (int i = 0; i < betas.Length; i++)
        {
            var v = state[BufferName(i)] ?? state.Start(BufferName(i), zeros_like(p));
            v.mul_(factors.Of(betas[i], p)).add_(g, Scalars.One);
            p.add_(v, alpha: step);
        }
    }

    /// <summary>AggMo's hyperparameters for one group; an unset one comes from the optimizer's defaults.</summary>
    public sealed class Options : OptimizerOptions
    {
        /// <summary>The damping vector, each in [0, 1).</summary>
        public double[]? betas;
        /// <summary>L2 penalty, &gt;= 0.</summary>
        public double? weight_decay;

        /// <inheritdoc />
        public override void SaveStateDict(BinaryWriter writer)
        {
            base.SaveStateDict(writer);
            writer.Write(betas!.Length);
            foreach (double beta in betas) writer.Write(beta);
            writer.Write(weight_decay!.Value);
        }

        /// <inheritdoc />
        public override void LoadStateDict(BinaryReader reader)
        {
            base.LoadStateDict(reader);
            int count = reader.ReadInt32();
            if (betas is not null && count != betas.Length)
                throw new InvalidDataException($"the saved group has {count} betas; this one keeps {betas.Length} buffers per parameter");
            betas = [.. Enumerable.Range(0, count).Select(_ => reader.ReadDouble())];
            weight_decay = reader.ReadDouble();
        }

        /// <inheritdoc />
        public override void LoadStateDict(OptimizerOptions source)
        {
            base.LoadStateDict(source);
            var s = (Options)source;
            if (betas is not null && s.betas!.Length != betas.Length)
                throw new ArgumentException($"the group to load has {s.betas.Length} betas; this one keeps {betas.Length} buffers per parameter", nameof(source));
            (betas, weight_decay) = ([.. s.betas!], s.weight_decay);
        }
    }
}
