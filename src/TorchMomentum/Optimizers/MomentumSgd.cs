using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;

namespace TorchMomentum.Optimizers;

/// <summary>How <see cref="MomentumSgd"/> keeps and applies its momentum.</summary>
public enum MomentumFormulation
{
    /// <summary>
    /// <c>torch.optim.SGD</c>'s: a momentum buffer b of gradients, and the learning rate applied at the end.
    /// </summary>
    PyTorch,

    /// <summary>
    /// The chapter's: a velocity v that already holds the learning rate. Defined only without dampening,
    /// Nesterov, weight decay and maximize.
    /// </summary>
    Chapter,
}

/// <summary>
/// Stochastic gradient descent with momentum, written by hand, that plugs into TorchSharp like its own
/// optimizers do: parameter groups, learning-rate schedulers (and momentum-cycling ones through
/// <see cref="IMomentum"/>), <c>zero_grad</c>, <c>state_dict</c> save and load, and moving state to a device.
/// </summary>
/// <remarks>
/// <para>
/// The <see cref="MomentumFormulation.PyTorch"/> form is PyTorch's <c>torch/optim/sgd.py</c> exactly, for each
/// parameter p with gradient g, momentum mu, dampening tau, weight decay wd and learning rate lr:
/// <code>
///   g = -g                                  if maximize
///   g = g + wd * p                          if wd != 0
///   b = g  (a copy)                         on the first step          } if mu != 0
///   b = mu * b + (1 - tau) * g              on every later step        }
///   g = g + mu * b  if nesterov, else g = b                            }
///   p = p - lr * g
/// </code>
/// It performs the same tensor operations in the same order as TorchSharp's <c>SGD</c>, so the two agree
/// bit for bit, except with maximize and weight decay together: TorchSharp adds the decay to the
/// un-negated gradient and flips the sign of lr at the end, which makes the decay push the weights the
/// wrong way. This class follows PyTorch there.
/// </para>
/// <para>
/// The <see cref="MomentumFormulation.Chapter"/> form is the chapter's <c>sgd_momentum</c>:
/// <code>
///   v = mu * v + lr * g        (v starts at 0)
///   p = p - v
/// </code>
/// With a constant learning rate the two forms are the same method: by induction v = lr * b, so they agree
/// up to rounding. They part when lr changes (a scheduler, a param group edit): the chapter's velocity
/// still carries the steps taken with the old lr, which decays only as mu^t, while PyTorch's buffer holds
/// raw gradients and the new lr applies to all of it at once.
/// </para>
/// </remarks>
public sealed class MomentumSgd : OptimizerHelper, IMomentum
{
    private readonly bool fused;

    /// <summary>Per param group: its flat buckets, and the parameters stepped one by one.</summary>
    private readonly Dictionary<TorchSharp.Modules.ParamGroup, (FlatBucket[] Buckets, Parameter[] Loose)> layout =
        new(ReferenceEqualityComparer.Instance);

    /// <summary>Builds the optimizer over one group of parameters.</summary>
    /// <param name="parameters">The parameters to optimize.</param>
    /// <param name="lr">Learning rate, &gt;= 0.</param>
    /// <param name="momentum">Momentum factor mu, &gt;= 0.</param>
    /// <param name="dampening">Dampening tau for momentum.</param>
    /// <param name="weight_decay">Weight decay (L2 penalty), &gt;= 0.</param>
    /// <param name="nesterov">Nesterov momentum; needs momentum &gt; 0 and dampening 0.</param>
    /// <param name="maximize">Maximize the objective instead of minimizing it.</param>
    /// <param name="formulation">PyTorch's buffer form or the chapter's velocity form.</param>
    /// <param name="fused">Keep each group's parameters, gradients and state in flat buffers (see
    /// <see cref="FlatBucket"/>) so a step is a few tensor operations however many tensors there are.
    /// Parameters that cannot share a buffer (tied or non-contiguous ones) are stepped one by one either way.</param>
    public MomentumSgd(IEnumerable<Parameter> parameters, double lr, double momentum = 0, double dampening = 0,
        double weight_decay = 0, bool nesterov = false, bool maximize = false,
        MomentumFormulation formulation = MomentumFormulation.PyTorch, bool fused = true)
        : this([new ParamGroup(parameters)], lr, momentum, dampening, weight_decay, nesterov, maximize, formulation, fused)
    {
    }

    /// <summary>Builds the optimizer over parameter groups; a group's own options override these defaults.</summary>
    public MomentumSgd(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0,
        double weight_decay = 0, bool nesterov = false, bool maximize = false,
        MomentumFormulation formulation = MomentumFormulation.PyTorch, bool fused = true)
    {
        this.fused = fused;
        _defaults = new Options
        {
            LearningRate = lr,
            InitialLearningRate = lr,
            momentum = momentum,
            dampening = dampening,
            weight_decay = weight_decay,
            nesterov = nesterov,
            maximize = maximize,
            formulation = formulation,
        };
        _parameter_groups = [];
        foreach (var group in groups) add_param_group(group);
    }

    /// <summary>The default momentum factor; momentum-cycling schedulers set it through <see cref="IMomentum"/>.</summary>
    public double Momentum
    {
        get => ((Options)_defaults).momentum!.Value;
        set => ((Options)_defaults).momentum = value;
    }

    /// <summary>How many bucket updates took the fused path (for tests: the fast path must really run).</summary>
    internal long FusedSteps { get; private set; }

    /// <summary>The momentum buffer (PyTorch form) or velocity (chapter form) of a parameter; null before its first step.</summary>
    public Tensor? MomentumBuffer(Parameter parameter) => ((State)_state[parameter.Handle]).momentum_buffer;

    /// <inheritdoc />
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var o = group.Options;
        var (buckets, loose) = layout[group];
        foreach (var bucket in buckets)
        {
            if (BuffersReady(bucket, o) && bucket.GatherGradients())
            {
                FusedStep(bucket, o);
                FusedSteps++;
            }
            else
                foreach (var parameter in bucket.Parameters) StepOne(parameter, o);
        }
        foreach (var parameter in loose) StepOne(parameter, o);
    }, closure);

    /// <summary>Zeroes the gradients: one operation per flat bucket, one per loose parameter.</summary>
    public override void zero_grad()
    {
        using var noGrad = no_grad();
        foreach (var (buckets, loose) in layout.Values)
        {
            foreach (var bucket in buckets) bucket.ZeroGrad();
            foreach (var parameter in loose)
            {
                using var grad = parameter.grad;
                grad?.zero_();
            }
        }
    }

    // A first step creates each buffer (PyTorch copies the gradient into it), one parameter at a time.
    private bool BuffersReady(FlatBucket bucket, Options o) =>
        (o.formulation == MomentumFormulation.PyTorch && o.momentum == 0)
        || bucket.Parameters.All(p => ((State)_state[p.Handle]).momentum_buffer is not null);

    private void StepOne(Parameter parameter, Options o)
    {
        var grad = parameter.grad;
        if (grad is null) return;
        var state = (State)_state[parameter.Handle];
        double lr = o.LearningRate!.Value;
        if (o.formulation == MomentumFormulation.Chapter)
            ChapterStep(parameter, grad, state, lr, o.momentum!.Value);
        else
            PyTorchStep(parameter, grad, state, lr, o.momentum!.Value, o.dampening!.Value, o.weight_decay!.Value, o.nesterov!.Value, o.maximize!.Value);
    }

    // The same operations as PyTorchStep and ChapterStep, in the same order, on the whole bucket at once.
    private static void FusedStep(FlatBucket bucket, Options o)
    {
        double lr = o.LearningRate!.Value, momentum = o.momentum!.Value;
        Tensor p = bucket.FlatParameters, g = bucket.FlatGradients, b = bucket.FlatState;
        if (o.formulation == MomentumFormulation.Chapter)
        {
            b.mul_(bucket.Factor(momentum)).add_(g.mul(bucket.Factor(lr)));
            p.sub_(b);
            return;
        }
        if (o.maximize!.Value) g = g.neg();
        if (o.weight_decay!.Value != 0) g = g.add(p, alpha: o.weight_decay.Value);
        if (momentum != 0)
        {
            b.mul_(bucket.Factor(momentum)).add_(g, alpha: 1 - o.dampening!.Value);
            g = o.nesterov!.Value ? g.add(b, alpha: momentum) : b;
        }
        p.add_(g, alpha: -lr);
    }

    private static void PyTorchStep(Parameter p, Tensor g, State state, double lr, double momentum, double dampening,
        double weightDecay, bool nesterov, bool maximize)
    {
        if (maximize) g = g.neg();
        if (weightDecay != 0) g = g.add(p, alpha: weightDecay);
        if (momentum != 0)
        {
            var b = state.momentum_buffer;
            if (b is null)
                state.momentum_buffer = b = state.NewBuffer(g);
            else
                b.mul_(momentum).add_(g, alpha: 1 - dampening);
            g = nesterov ? g.add(b, alpha: momentum) : b;
        }
        p.add_(g, alpha: -lr);
    }

    // Product by product, as the chapter writes it, so that the rounding is the chapter's.
    private static void ChapterStep(Parameter p, Tensor g, State state, double lr, double momentum)
    {
        var v = state.momentum_buffer ??= state.NewBuffer(zeros_like(p));
        v.mul_(momentum).add_(g.mul(lr));
        p.sub_(v);
    }

    /// <inheritdoc />
    public override void add_param_group(TorchSharp.Modules.ParamGroup param_group)
    {
        var defaults = (Options)_defaults;
        param_group.Options ??= new Options();
        var o = (Options)param_group.Options;
        o.LearningRate ??= defaults.LearningRate;
        o.momentum ??= defaults.momentum;
        o.dampening ??= defaults.dampening;
        o.weight_decay ??= defaults.weight_decay;
        o.nesterov ??= defaults.nesterov;
        o.maximize ??= defaults.maximize;
        o.formulation ??= defaults.formulation;
        o.InitialLearningRate = o.LearningRate!.Value;
        Validate(o);
        var parameters = param_group.Parameters.ToArray();
        RefuseRepeatedParameters(parameters);

        _parameter_groups.Add(param_group);
        foreach (var parameter in parameters) _state[parameter.Handle] = new State(parameter);

        var buckets = new List<FlatBucket>();
        var loose = new List<Parameter>();
        foreach (var sameKind in parameters.GroupBy(p => (p.dtype, p.device_type, p.device_index)))
        {
            var members = sameKind.ToArray();
            if (!fused || !FlatBucket.CanHold(members))
            {
                loose.AddRange(members);
                continue;
            }
            var bucket = new FlatBucket(members);
            for (int i = 0; i < members.Length; i++) ((State)_state[members[i].Handle]).Place(bucket, i);
            buckets.Add(bucket);
        }
        layout[param_group] = (buckets.ToArray(), loose.ToArray());
    }

    /// <summary>
    /// A parameter given twice would be stepped twice per <see cref="step"/>, silently. PyTorch refuses one in
    /// two groups; one listed twice in the same group is refused too (PyTorch only warns), because it is the
    /// same mistake. Two handles to the same tensor count as the same parameter.
    /// </summary>
    private void RefuseRepeatedParameters(IReadOnlyList<Parameter> parameters)
    {
        var added = new HashSet<IntPtr>();
        foreach (var parameter in parameters)
            if (!added.Add(FlatBucket.Identity(parameter)))
                throw new ArgumentException(
                    "A parameter appears more than once in one parameter group; it would be stepped more than once per step. " +
                    "List each parameter once (tied weights: once for all the modules that share them).", "param_group");
        if (_parameter_groups.SelectMany(g => g.Parameters).Any(p => added.Contains(FlatBucket.Identity(p))))
            throw new ArgumentException(
                "Some parameters appear in more than one parameter group; each parameter must be in exactly one group.", "param_group");
    }

    /// <summary>PyTorch's argument checks, plus the chapter form's limits.</summary>
    private static void Validate(Options o)
    {
        double lr = o.LearningRate!.Value, momentum = o.momentum!.Value, dampening = o.dampening!.Value, wd = o.weight_decay!.Value;
        if (!(lr >= 0)) throw new ArgumentException($"Invalid learning rate: lr = {lr} (must be >= 0)", "lr");
        if (!(momentum >= 0)) throw new ArgumentException($"Invalid momentum value: momentum = {momentum} (must be >= 0)", "momentum");
        if (!(wd >= 0)) throw new ArgumentException($"Invalid weight_decay value: weight_decay = {wd} (must be >= 0)", "weight_decay");
        if (o.nesterov!.Value && (momentum <= 0 || dampening != 0))
            throw new ArgumentException($"Nesterov momentum requires momentum > 0 and dampening = 0 (got momentum = {momentum}, dampening = {dampening})", "nesterov");
        if (o.formulation == MomentumFormulation.Chapter && (dampening != 0 || o.nesterov!.Value || wd != 0 || o.maximize!.Value))
            throw new ArgumentException(
                $"The chapter formulation is defined only without dampening, nesterov, weight_decay and maximize (got dampening = {dampening}, nesterov = {o.nesterov}, weight_decay = {wd}, maximize = {o.maximize})",
                "formulation");
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        foreach (var (_, state) in _state) ((State)state).Dispose();
        _state.Clear();
        foreach (var bucket in layout.Values.SelectMany(l => l.Buckets)) bucket.Dispose();
        layout.Clear();
    }

    /// <summary>The hyperparameters of one parameter group.</summary>
    public sealed class Options : OptimizerOptions
    {
#pragma warning disable CS1591 // PyTorch's own names; documented on MomentumSgd's constructor.
        public double? momentum;
        public double? dampening;
        public double? weight_decay;
        public bool? nesterov;
        public bool? maximize;
        public MomentumFormulation? formulation;
#pragma warning restore CS1591

        /// <inheritdoc />
        public override void SaveStateDict(BinaryWriter writer)
        {
            base.SaveStateDict(writer);
            writer.Write(momentum!.Value);
            writer.Write(dampening!.Value);
            writer.Write(weight_decay!.Value);
            writer.Write(nesterov!.Value);
            writer.Write(maximize!.Value);
            writer.Write((int)formulation!.Value);
        }

        /// <inheritdoc />
        public override void LoadStateDict(BinaryReader reader)
        {
            base.LoadStateDict(reader);
            momentum = reader.ReadDouble();
            dampening = reader.ReadDouble();
            weight_decay = reader.ReadDouble();
            nesterov = reader.ReadBoolean();
            maximize = reader.ReadBoolean();
            formulation = (MomentumFormulation)reader.ReadInt32();
        }

        /// <inheritdoc />
        public override void LoadStateDict(OptimizerOptions source)
        {
            base.LoadStateDict(source);
            var s = (Options)source;
            (momentum, dampening, weight_decay, nesterov, maximize, formulation) =
                (s.momentum, s.dampening, s.weight_decay, s.nesterov, s.maximize, s.formulation);
        }
    }

    /// <summary>A parameter group with its own hyperparameters; unset ones come from the optimizer's defaults.</summary>
    public sealed class ParamGroup : ParamGroup<Options>, IMomentum
    {
        /// <summary>An empty group.</summary>
        public ParamGroup() { }

        /// <summary>A group of parameters that takes every hyperparameter from the optimizer's defaults.</summary>
        public ParamGroup(IEnumerable<Parameter> parameters) : base(parameters, new Options()) { }

        /// <summary>A group with its own options.</summary>
        public ParamGroup(IEnumerable<Parameter> parameters, Options options) : base(parameters, options) { }

        /// <summary>This group's momentum factor.</summary>
        public double Momentum
        {
            get => Options.momentum!.Value;
            set => Options.momentum = value;
        }
    }

    /// <summary>The per-parameter state: the momentum buffer b (PyTorch form) or the velocity v (chapter form).</summary>
    public sealed class State : OptimizerState, IDisposable
    {
        /// <summary>b or v; null until the parameter's first step with momentum.</summary>
        public Tensor? momentum_buffer;

        private FlatBucket? bucket;
        private int index;

        /// <summary>State for one parameter.</summary>
        public State(Parameter parameter) : base(parameter) { }

        /// <inheritdoc />
        public override void Initialize(OptimizerOptions options) { }

        /// <summary>Keeps this parameter's buffer at <paramref name="position"/> of a flat bucket's state.</summary>
        internal void Place(FlatBucket flat, int position) => (bucket, index) = (flat, position);

        /// <summary>A new buffer holding <paramref name="initial"/>: in the bucket's state when there is one.</summary>
        internal Tensor NewBuffer(Tensor initial)
        {
            if (bucket is null) return initial.clone().detach().DetachFromDisposeScope();
            var view = bucket.StateView(index);
            view.copy_(initial);
            return view;
        }

        /// <summary>Frees the buffer (a flat bucket's views are freed with the bucket).</summary>
        public void Dispose()
        {
            if (bucket is null) momentum_buffer?.Dispose();
            momentum_buffer = null;
        }

        /// <inheritdoc />
        public override void to(Device device)
        {
            if (bucket is not null)
            {
                bucket.MoveState(device);
                if (momentum_buffer is not null) momentum_buffer = bucket.StateView(index);
                return;
            }
            if (momentum_buffer is null || (momentum_buffer.device_type == device.type && momentum_buffer.device_index == device.index)) return;
            // Tensor.to returns a new tensor; TorchSharp's own SGD drops it and keeps the old one.
            var moved = momentum_buffer.to(device).DetachFromDisposeScope();
            momentum_buffer.Dispose();
            momentum_buffer = moved;
        }

        /// <inheritdoc />
        public override void SaveStateDict(BinaryWriter writer) => SaveConditionalStateTensor(writer, momentum_buffer);

        /// <inheritdoc />
        public override void LoadStateDict(BinaryReader reader)
        {
            Tensor? loaded = null;
            LoadConditionalStateTensor(reader, ref loaded, _parameter.device);
            Replace(loaded);
            loaded?.Dispose();
        }

        /// <summary>Takes a copy of another state's buffer, so the two optimizers never share a tensor.</summary>
        public override void LoadStateDict(OptimizerState source) => Replace(((State)source).momentum_buffer);

        private void Replace(Tensor? buffer)
        {
            if (bucket is null) momentum_buffer?.Dispose();
            momentum_buffer = buffer is null ? null : NewBuffer(buffer);
        }

        /// <inheritdoc />
        public override bool ApproximatelyEquals(OptimizerState other) =>
            other is State s && (momentum_buffer is null ? s.momentum_buffer is null : s.momentum_buffer is not null && momentum_buffer.allclose(s.momentum_buffer));
    }
}
