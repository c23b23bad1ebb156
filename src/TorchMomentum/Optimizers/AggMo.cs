using System.Numerics;
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
/// On the CPU each parameter is stepped in one pass over its elements (<see cref="Loop{T}"/>), the same bits as the
/// 3K tensor operations above; <c>fused: false</c> keeps the operations.
/// </summary>
public sealed class AggMo : FamilyOptimizer<AggMo.Options>
{
    /// <summary>AggMo over one group of parameters.</summary>
    /// <param name="parameters">The parameters to optimize.</param>
    /// <param name="lr">Learning rate, &gt; 0.</param>
    /// <param name="betas">The damping vector, each in [0, 1), at least one (default 0, 0.9, 0.99).</param>
    /// <param name="weight_decay">L2 penalty added to the gradient, &gt;= 0.</param>
    /// <param name="fused">Step each dense CPU parameter in one pass over its elements; the same bits as the tensor operations.</param>
    /// <exception cref="ArgumentException">An argument out of its range, named.</exception>
    public AggMo(IEnumerable<Parameter> parameters, double lr, IReadOnlyList<double>? betas = null, double weight_decay = 0, bool fused = true)
        : this([new ParamGroup<Options>(parameters)], lr, betas, weight_decay, fused) { }

    /// <summary>AggMo over parameter groups; a group's own options override these defaults.</summary>
    public AggMo(IEnumerable<ParamGroup<Options>> groups, double lr, IReadOnlyList<double>? betas = null, double weight_decay = 0, bool fused = true)
        : base(groups, new Options { LearningRate = lr, betas = [.. betas ?? DefaultBetas], weight_decay = weight_decay }) => this.fused = fused;

    private readonly bool fused;

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
        var buffers = Enumerable.Range(0, betas.Length).Select(i => state[BufferName(i)] ?? state.Start(BufferName(i), zeros_like(p))).ToArray();
        if (o.weight_decay!.Value != 0) g = g.add(p, alpha: factors.ScalarOf(o.weight_decay.Value));
        if (fused && CpuLoop.Fits(p, [g, .. buffers]))
        {
            if (p.dtype == ScalarType.Float32) Loop<float>(p, g, buffers, betas, o.LearningRate!.Value);
            else Loop<double>(p, g, buffers, betas, o.LearningRate!.Value);
            return;
        }
        var step = factors.ScalarOf(-(o.LearningRate!.Value / betas.Length));
        for (int i = 0; i < betas.Length; i++)
        {
            var v = buffers[i];
            v.mul_(factors.Of(betas[i], p)).add_(g, Scalars.One);
            p.add_(v, alpha: step);
        }
    }

    /// <summary>
    /// The update above in one pass over the elements per four buffers: per element, the tensor form's operations in
    /// its order (buffer by buffer), each rounded as libtorch rounds it (<see cref="CpuLoop"/>). Elements never meet,
    /// so element by element gives the same bits as buffer by buffer over whole tensors, and every buffer of a pass is
    /// read while the parameter and its gradient are at hand: 0.3x TorchSharp's SGD step at the chapter's size, 1.7x
    /// at a million parameters and 1.2x at eight million, where both are bound by memory and AggMo's step keeps five
    /// arrays to SGD's three (docs/performance.md). <paramref name="gt"/> is the gradient with the weight decay already added.
    /// </summary>
    private static void Loop<T>(Tensor pt, Tensor gt, Tensor[] buffers, double[] betas, double lr) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> p = CpuLoop.Of<T>(pt), g = CpuLoop.Of<T>(gt);
        T step = CpuLoop.In<T>(-(lr / betas.Length));
        Vector<T> vStep = new(step);
        Span<Vector<T>> pv = CpuLoop.Vectors(p), gv = CpuLoop.Vectors(g);
        int tail = pv.Length * Vector<T>.Count;
        for (int first = 0; first < betas.Length; first += 4)
        {
            // Up to four buffers held as spans (a pass over more would need them in an array, which spans cannot be).
            int n = Math.Min(4, betas.Length - first);
            Span<T> v0 = CpuLoop.Of<T>(buffers[first]), v1 = n > 1 ? CpuLoop.Of<T>(buffers[first + 1]) : default,
                v2 = n > 2 ? CpuLoop.Of<T>(buffers[first + 2]) : default, v3 = n > 3 ? CpuLoop.Of<T>(buffers[first + 3]) : default;
            T b0 = CpuLoop.In<T>(betas[first]), b1 = n > 1 ? CpuLoop.In<T>(betas[first + 1]) : T.Zero,
                b2 = n > 2 ? CpuLoop.In<T>(betas[first + 2]) : T.Zero, b3 = n > 3 ? CpuLoop.In<T>(betas[first + 3]) : T.Zero;
            Span<Vector<T>> w0 = CpuLoop.Vectors(v0), w1 = CpuLoop.Vectors(v1), w2 = CpuLoop.Vectors(v2), w3 = CpuLoop.Vectors(v3);
            Vector<T> c0 = new(b0), c1 = new(b1), c2 = new(b2), c3 = new(b3);
            for (int k = 0; k < pv.Length; k++)
            {
                var gk = gv[k];
                var a = w0[k] * c0 + gk;
                w0[k] = a;
                var pk = CpuLoop.Fma(a, vStep, pv[k]);
                if (n > 1) { a = w1[k] * c1 + gk; w1[k] = a; pk = CpuLoop.Fma(a, vStep, pk); }
                if (n > 2) { a = w2[k] * c2 + gk; w2[k] = a; pk = CpuLoop.Fma(a, vStep, pk); }
                if (n > 3) { a = w3[k] * c3 + gk; w3[k] = a; pk = CpuLoop.Fma(a, vStep, pk); }
                pv[k] = pk;
            }
            for (int j = tail; j < p.Length; j++)
            {
                v0[j] = v0[j] * b0 + g[j];
                p[j] = T.FusedMultiplyAdd(v0[j], step, p[j]);
                if (n > 1) { v1[j] = v1[j] * b1 + g[j]; p[j] = T.FusedMultiplyAdd(v1[j], step, p[j]); }
                if (n > 2) { v2[j] = v2[j] * b2 + g[j]; p[j] = T.FusedMultiplyAdd(v2[j], step, p[j]); }
                if (n > 3) { v3[j] = v3[j] * b3 + g[j]; p[j] = T.FusedMultiplyAdd(v3[j], step, p[j]); }
            }
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
