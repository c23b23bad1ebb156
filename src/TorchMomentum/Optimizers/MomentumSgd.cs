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
    /// Nesterov, weight decay and maximize. Its state does not interchange with <c>torch.optim.SGD</c>'s (see
    /// <see cref="MomentumSgd"/>).
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
/// The <see cref="MomentumFormulation.PyTorch"/> form is PyTorch's <c>torch/optim/sgd.py</c> exactly, and the
/// <see cref="MomentumFormulation.Chapter"/> form is the chapter's <c>sgd_momentum</c> (section 5.5.1); each is
/// written once, formula beside code, in <see cref="MomentumUpdate"/>. The PyTorch form performs the same tensor
/// operations in the same order as TorchSharp's <c>SGD</c>, so the two agree bit for bit, except with maximize
/// and weight decay together: TorchSharp adds the decay to the un-negated gradient and flips the sign of lr at
/// the end, which makes the decay push the weights the wrong way. This class follows PyTorch there.
/// </para>
/// <para>
/// With a constant learning rate the two forms are the same method: by induction the chapter's velocity is
/// v = lr * b, so they agree up to rounding. They part when lr changes (a scheduler, a param group edit): the
/// velocity still carries the steps taken with the old lr, which decays only as momentum^t, while PyTorch's
/// buffer holds raw gradients and the new lr applies to all of it at once.
/// </para>
/// <para>
/// State moves both ways between this class and TorchSharp's <c>SGD</c> in the PyTorch form (see
/// MomentumSgd.StateDict.cs); the chapter form's velocity is not SGD's buffer and keeps a state of its own.
/// </para>
/// </remarks>
public sealed partial class MomentumSgd : OptimizerHelper, IMomentum
{
    private readonly bool fused;
    private readonly FactorCache factors = new();

    /// <summary>Per param group: its flat buckets, and the parameters stepped one by one.</summary>
    private readonly Dictionary<TorchSharp.Modules.ParamGroup, (FlatBucket[] Buckets, Parameter[] Loose)> layout =
        new(ReferenceEqualityComparer.Instance);

    /// <summary>Each flattened parameter's bucket and place in it, by the parameter's handle.</summary>
    private readonly Dictionary<IntPtr, (FlatBucket Bucket, int Index)> places = [];

    /// <summary>Builds the optimizer over one group of parameters.</summary>
    /// <param name="parameters">The parameters to optimize.</param>
    /// <param name="lr">Learning rate, &gt;= 0.</param>
    /// <param name="momentum">Momentum factor, &gt;= 0.</param>
    /// <param name="dampening">Dampening for momentum.</param>
    /// <param name="weight_decay">Weight decay (L2 penalty), &gt;= 0.</param>
    /// <param name="nesterov">Nesterov momentum; needs momentum &gt; 0 and dampening 0.</param>
    /// <param name="maximize">Maximize the objective instead of minimizing it.</param>
    /// <param name="formulation">PyTorch's buffer form or the chapter's velocity form.</param>
    /// <param name="fused">Keep each group's parameters, gradients and state in flat buffers (see
    /// <see cref="FlatBucket"/>) so a step is a few tensor operations however many tensors there are.
    /// Parameters that cannot share a buffer (tied or non-contiguous ones) are stepped one by one either way, and
    /// so are all of a bucket's on a step where one has a sparse gradient (an embedding's with sparse: true),
    /// since PyTorch steps those with sparse operations.</param>
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
        var defaults = Options.Of(lr, momentum, dampening, weight_decay, nesterov, maximize, formulation);
        defaults.InitialLearningRate = lr;
        _defaults = defaults;
        _parameter_groups = [];
        foreach (var group in groups) add_param_group(group);
    }

    /// <summary>The default momentum factor; momentum-cycling schedulers set it through <see cref="IMomentum"/>.</summary>
    public double Momentum
    {
        get => ((Options)_defaults).momentum!.Value;
        set => ((Options)_defaults).momentum = value;
    }

    /// <summary>How many times a whole bucket was updated at once (for tests: the fast path must really run).</summary>
    internal long FusedBucketUpdates { get; private set; }

    /// <summary>The momentum buffer (PyTorch form) or velocity (chapter form) of a parameter; null before its first step.</summary>
    public Tensor? MomentumBuffer(Parameter parameter) => BufferOf(_state[parameter.Handle]);

    /// <inheritdoc />
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var o = group.Options;
        var (buckets, loose) = layout[group];
        foreach (var bucket in buckets)
        {
            if (AdoptBuffers(bucket, o) && bucket.GatherGradients())
            {
                // Every buffer exists (AdoptBuffers), so the kernel never starts one here.
                Update(bucket.FlatParameters, bucket.FlatGradients, bucket.FlatState, o, _ => throw new InvalidOperationException("a fused update never starts a buffer"));
                FusedBucketUpdates++;
            }
            else
                foreach (var parameter in bucket.Parameters) StepOne(parameter, o);
        }
        foreach (var parameter in loose) StepOne(parameter, o);
    }, closure);

    private void StepOne(Parameter parameter, Options o)
    {
        var grad = parameter.grad;
        if (grad is null) return;
        var buffer = MomentumBuffer(parameter);
        var updated = Update(parameter, grad, buffer, o, initial => NewBuffer(parameter, initial));
        if (!ReferenceEquals(updated, buffer)) SetBuffer(parameter, updated);
    }

    /// <summary>The group's formulation's kernel (<see cref="MomentumUpdate"/>) on one parameter or one whole bucket.</summary>
    private Tensor? Update(Tensor p, Tensor g, Tensor? b, Options o, Func<Tensor, Tensor> newBuffer) =>
        o.formulation == MomentumFormulation.Chapter
            ? MomentumUpdate.Chapter(p, g, b, o, factors, newBuffer)
            : MomentumUpdate.PyTorch(p, g, b, o, factors, newBuffer);

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

    /// <summary>
    /// Readies a bucket's momentum buffers for a fused step, which updates the bucket's flat state: each
    /// buffer must be the view the bucket lent, so one that a load or the user put in its place is copied in
    /// and replaced by a view. False when some buffer is missing (a first step creates each one, a parameter
    /// at a time, as PyTorch copies the gradient into it) or sparse (a sparse gradient's, see NewBuffer).
    /// </summary>
    private bool AdoptBuffers(FlatBucket bucket, Options o)
    {
        if (o.formulation == MomentumFormulation.PyTorch && o.momentum == 0) return true;
        var parameters = bucket.Parameters;
        var buffers = parameters.Select(MomentumBuffer).ToArray();
        if (buffers.Any(b => b is null || b.is_sparse)) return false;
        for (int i = 0; i < parameters.Count; i++)
        {
            if (bucket.HasLent(i, buffers[i]!)) continue;
            var view = bucket.LendStateView(i);
            view.copy_(buffers[i]!);
            SetBuffer(parameters[i], view);
        }
        return true;
    }

    /// <summary>
    /// A new momentum buffer holding <paramref name="initial"/>: a view into the parameter's flat bucket when
    /// it has one. A sparse gradient's buffer is a sparse copy, as SGD's is, and is stepped one parameter at a time.
    /// </summary>
    private Tensor NewBuffer(Parameter parameter, Tensor initial)
    {
        if (initial.is_sparse || !places.TryGetValue(parameter.Handle, out var place)) return initial.clone().detach().DetachFromDisposeScope();
        var view = place.Bucket.LendStateView(place.Index);
        view.copy_(initial);
        return view;
    }

    /// <summary>
    /// The momentum buffer a per-parameter state holds, whichever of the two state types it is: TorchSharp's SGD
    /// keeps its own SGD.State, which the PyTorch form shares, so this reads either optimizer's state.
    /// </summary>
    internal static Tensor? BufferOf(OptimizerState state) => state switch
    {
        SGD.State sgd => sgd.momentum_buffer,
        State chapter => chapter.momentum_buffer,
        _ => throw new ArgumentException($"{state.GetType().FullName} is neither TorchSharp's SGD.State nor MomentumSgd.State."),
    };

    /// <summary>Gives a parameter's state another buffer. The state owned the old one, so it is disposed.</summary>
    private void SetBuffer(Parameter parameter, Tensor? buffer)
    {
        var state = _state[parameter.Handle];
        var old = BufferOf(state);
        PutBuffer(state, buffer);
        if (old is not null && !ReferenceEquals(old, buffer)) old.Dispose();
    }

    /// <summary>
    /// Puts <paramref name="buffer"/> in a per-parameter state of either type (see <see cref="BufferOf"/>); the old
    /// one is the caller's. A MomentumSgd adopts a buffer put in place into its fused layout at its next step.
    /// </summary>
    internal static void PutBuffer(OptimizerState state, Tensor? buffer)
    {
        if (state is SGD.State sgd) sgd.momentum_buffer = buffer!;
        else ((State)state).momentum_buffer = buffer;
    }

    /// <summary>
    /// Whether <paramref name="lr"/> is 0 as <paramref name="dtype"/> holds it: the chapter form's velocity
    /// v = lr * b is then 0 whatever PyTorch's buffer b is, so b cannot be had from it.
    /// </summary>
    public static bool LearningRateVanishes(double lr, ScalarType dtype) => (dtype == ScalarType.Float32 ? (float)lr : lr) == 0;

    /// <summary>The PyTorch form keeps TorchSharp's own SGD.State, so that SGD loads its state and it loads SGD's.</summary>
    private static OptimizerState NewState(Parameter parameter, MomentumFormulation formulation) =>
        formulation == MomentumFormulation.PyTorch ? new SGD.State(parameter) : new State(parameter);

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
        ParameterGroups.RefuseRepeated(_parameter_groups, parameters);

        _parameter_groups.Add(param_group);
        foreach (var parameter in parameters) _state[parameter.Handle] = NewState(parameter, o.formulation!.Value);

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
            for (int i = 0; i < members.Length; i++) places[members[i].Handle] = (bucket, i);
            buckets.Add(bucket);
        }
        layout[param_group] = (buckets.ToArray(), loose.ToArray());
    }

    /// <summary>PyTorch's argument checks, plus the chapter form's limits.</summary>
    private static void Validate(Options o)
    {
        double lr = o.LearningRate!.Value, momentum = o.momentum!.Value, dampening = o.dampening!.Value, wd = o.weight_decay!.Value;
        // The rule every setting follows (Refusal), in the parameters' own names; like PyTorch, momentum may be 1 or more.
        foreach (var (name, value) in new[] { ("lr", lr), ("momentum", momentum), ("weight_decay", wd) })
            ParameterGroups.Check(name, new Validation.Interval(0), value);
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
        foreach (var (_, state) in _state) ((IDisposable)state).Dispose();
        _state.Clear();
        foreach (var bucket in layout.Values.SelectMany(l => l.Buckets)) bucket.Dispose();
        factors.Dispose();
        layout.Clear();
        places.Clear();
    }
}
