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
/// <para>
/// State moves both ways between this class and TorchSharp's <c>SGD</c>, so either can continue the other's
/// training exactly. In the PyTorch form each parameter's state is SGD's own <see cref="SGD.State"/> and each
/// group's options extend <see cref="SGD.Options"/>: <c>state_dict()</c> loads into SGD, and SGD's loads
/// here. <see cref="save_state_dict(BinaryWriter)"/> then writes SGD's file format, which SGD loads, and
/// <see cref="load_state_dict(BinaryReader)"/> reads SGD's files as well as this class's. Unlike SGD, this
/// class also takes state without momentum buffers (momentum 0, or parameters never stepped); TorchSharp
/// 0.107's SGD throws a NullReferenceException loading such a state from a <c>state_dict()</c>, its own included.
/// </para>
/// <para>
/// The chapter form's velocity is not SGD's buffer: v = lr * b holds only while lr has never changed, so
/// neither can continue from the other. Its state keeps a type of its own, <see cref="State"/>, and this
/// class's own file format, and a MomentumSgd refuses state of the other form (SGD's state is of the PyTorch
/// form) rather than guess at a conversion. TorchSharp's SGD refuses a chapter-form file by its type name;
/// given a chapter-form <c>state_dict()</c> it takes the hyperparameters, then throws a NullReferenceException
/// on the first state, which is not its type.
/// </para>
/// <para>
/// TorchSharp's <c>OptimizerHelper.save_state_dict</c> and <c>load_state_dict</c> for files and streams are
/// not virtual, so this class hides them: call them on a MomentumSgd. Through an <c>OptimizerHelper</c>
/// reference TorchSharp's own run instead; they write and read this class's own format, which round-trips
/// exactly but is not SGD's.
/// </para>
/// </remarks>
public sealed class MomentumSgd : OptimizerHelper, IMomentum
{
    private readonly bool fused;

    /// <summary>Per param group: its flat buckets, and the parameters stepped one by one.</summary>
    private readonly Dictionary<TorchSharp.Modules.ParamGroup, (FlatBucket[] Buckets, Parameter[] Loose)> layout =
        new(ReferenceEqualityComparer.Instance);

    /// <summary>Each flattened parameter's bucket and place in it, by the parameter's handle.</summary>
    private readonly Dictionary<IntPtr, (FlatBucket Bucket, int Index)> places = [];

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

    private void StepOne(Parameter parameter, Options o)
    {
        var grad = parameter.grad;
        if (grad is null) return;
        double lr = o.LearningRate!.Value;
        if (o.formulation == MomentumFormulation.Chapter)
            ChapterStep(parameter, grad, lr, o.momentum!.Value);
        else
            PyTorchStep(parameter, grad, lr, o.momentum!.Value, o.dampening!.Value, o.weight_decay!.Value, o.nesterov!.Value, o.maximize!.Value);
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

    private void PyTorchStep(Parameter p, Tensor g, double lr, double momentum, double dampening,
        double weightDecay, bool nesterov, bool maximize)
    {
        if (maximize) g = g.neg();
        if (weightDecay != 0) g = g.add(p, alpha: weightDecay);
        if (momentum != 0)
        {
            var b = MomentumBuffer(p);
            if (b is null)
                SetBuffer(p, b = NewBuffer(p, g));
            else
                b.mul_(momentum).add_(g, alpha: 1 - dampening);
            g = nesterov ? g.add(b, alpha: momentum) : b;
        }
        p.add_(g, alpha: -lr);
    }

    // Product by product, as the chapter writes it, so that the rounding is the chapter's.
    private void ChapterStep(Parameter p, Tensor g, double lr, double momentum)
    {
        var v = MomentumBuffer(p);
        if (v is null) SetBuffer(p, v = NewBuffer(p, zeros_like(p)));
        v.mul_(momentum).add_(g.mul(lr));
        p.sub_(v);
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

    /// <summary>The momentum buffer a per-parameter state holds, whichever of the two state types it is.</summary>
    private static Tensor? BufferOf(OptimizerState state) => state switch
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
        if (state is SGD.State sgd) sgd.momentum_buffer = buffer!;
        else ((State)state).momentum_buffer = buffer;
        if (old is not null && !ReferenceEquals(old, buffer)) old.Dispose();
    }

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
        RefuseRepeatedParameters(parameters);

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

    /// <summary>
    /// Loads a state taken by <c>state_dict()</c> from a MomentumSgd or, for the PyTorch form, from TorchSharp's
    /// SGD: hyperparameters and momentum buffers, the buffers copied. A state without buffers (momentum 0, or
    /// parameters never stepped) loads too. Nothing changes unless all of it fits.
    /// </summary>
    /// <exception cref="ArgumentException">The state has other numbers of groups or parameters, is not
    /// SGD's or MomentumSgd's, or a group is of the other formulation.</exception>
    public override void load_state_dict(StateDictionary state_dict)
    {
        var parameters = AllParameters();
        RefuseOtherShape(state_dict.Options.Count, state_dict.State.Count, parameters.Length);
        RefuseOtherFormulations(state_dict.Options.Select(FormulationOf).ToArray(), message => new ArgumentException(message, nameof(state_dict)));
        var buffers = state_dict.State.Select(BufferOf).ToArray();
        for (int i = 0; i < _parameter_groups.Count; i++)
            if (!ReferenceEquals(_parameter_groups[i].Options, state_dict.Options[i])) _parameter_groups[i].Options.LoadStateDict(state_dict.Options[i]);
        for (int i = 0; i < parameters.Length; i++)
            if (!ReferenceEquals(_state[parameters[i].Handle], state_dict.State[i])) SetBuffer(parameters[i], Copy(buffers[i], parameters[i].device));
    }

    /// <summary>Saves the state to a file, in TorchSharp's SGD format when every group uses the PyTorch form.</summary>
    /// <param name="location">The file to write.</param>
    public new void save_state_dict(string location)
    {
        using var stream = File.Create(location);
        using var writer = new BinaryWriter(stream);
        save_state_dict(writer);
    }

    /// <summary>
    /// Saves the state: in TorchSharp's SGD format when every group uses the PyTorch form, so that SGD loads
    /// it; otherwise in this class's own, which also records each group's formulation.
    /// </summary>
    /// <param name="writer">Where to write it.</param>
    public new void save_state_dict(BinaryWriter writer)
    {
        var groups = _parameter_groups.Select(g => (Options)g.Options).ToArray();
        if (groups.Any(o => o.formulation != MomentumFormulation.PyTorch))
        {
            base.save_state_dict(writer);
            return;
        }
        // SGD's OptimizerHelper.save_state_dict: its type name, the counts (7-bit encoded), the options, the states.
        var parameters = AllParameters();
        writer.Write(typeof(SGD).Name);
        writer.Write7BitEncodedInt64(groups.Length);
        writer.Write7BitEncodedInt64(parameters.Length);
        foreach (var options in groups) options.SaveSgdStateDict(writer);
        foreach (var parameter in parameters) _state[parameter.Handle].SaveStateDict(writer);
    }

    /// <summary>Loads a state saved to a file by a MomentumSgd or by TorchSharp's SGD; see <see cref="load_state_dict(BinaryReader)"/>.</summary>
    /// <param name="location">The file to read.</param>
    public new void load_state_dict(string location)
    {
        using var stream = File.OpenRead(location);
        using var reader = new BinaryReader(stream);
        load_state_dict(reader);
    }

    /// <summary>
    /// Loads a state saved by a MomentumSgd or, for the PyTorch form, by TorchSharp's SGD: hyperparameters and
    /// momentum buffers. Nothing changes unless all of it reads and fits.
    /// </summary>
    /// <param name="reader">Where to read it.</param>
    /// <exception cref="InvalidDataException">The state is of another optimizer, or a group is of the other formulation.</exception>
    /// <exception cref="ArgumentException">The state has other numbers of groups or parameters.</exception>
    public new void load_state_dict(BinaryReader reader)
    {
        string type = reader.ReadString();
        bool fromSgd = type == typeof(SGD).Name;
        if (!fromSgd && type != GetType().Name)
            throw new InvalidDataException($"Mismatched optimizer type: expected '{GetType().Name}' or '{typeof(SGD).Name}', but found '{type}' in the loaded stream.");
        var parameters = AllParameters();
        long groupCount = reader.Read7BitEncodedInt64(), stateCount = reader.Read7BitEncodedInt64();
        RefuseOtherShape(groupCount, stateCount, parameters.Length);
        var options = _parameter_groups.Select(_ => ReadOptions(reader, fromSgd)).ToArray();
        RefuseOtherFormulations(options.Select(o => o.formulation!.Value).ToArray(), message => new InvalidDataException(message));
        var buffers = new List<Tensor?>();
        try
        {
            foreach (var parameter in parameters) buffers.Add(ReadBuffer(reader, parameter.device));
        }
        catch
        {
            foreach (var buffer in buffers) buffer?.Dispose();
            throw;
        }
        for (int i = 0; i < options.Length; i++) _parameter_groups[i].Options.LoadStateDict(options[i]);
        for (int i = 0; i < parameters.Length; i++) SetBuffer(parameters[i], buffers[i]);
    }

    /// <summary>Every parameter, in the order of the states in a state dict and a saved file.</summary>
    private Parameter[] AllParameters() => _parameter_groups.SelectMany(g => g.Parameters).ToArray();

    /// <summary>TorchSharp's checks, with its messages.</summary>
    private void RefuseOtherShape(long groupCount, long stateCount, int parameterCount)
    {
        if (groupCount != _parameter_groups.Count) throw new ArgumentException("Invalid optimizer state -- different number of parameter groups.");
        if (stateCount != parameterCount) throw new ArgumentException("Invalid optimizer state -- different number of states.");
    }

    /// <summary>Refuses a state whose group <c>i</c> is of another formulation than this optimizer's group <c>i</c>.</summary>
    private void RefuseOtherFormulations(IReadOnlyList<MomentumFormulation> loaded, Func<string, Exception> error)
    {
        for (int i = 0; i < loaded.Count; i++)
        {
            var own = ((Options)_parameter_groups[i].Options).formulation!.Value;
            if (own != loaded[i]) throw error($"Parameter group {i}: {FormulationMismatch(own, loaded[i])}");
        }
    }

    /// <summary>Why state of one formulation cannot continue in the other.</summary>
    private static string FormulationMismatch(MomentumFormulation own, MomentumFormulation loaded) =>
        $"the state is of the {loaded} formulation (all of TorchSharp's SGD state is of the PyTorch one) but this optimizer " +
        $"uses the {own} formulation. PyTorch's momentum buffer b and the chapter's velocity v are different quantities " +
        $"(v = lr * b only while lr has never changed), so neither can continue the other: build the MomentumSgd with " +
        $"formulation: MomentumFormulation.{loaded} to continue this state.";

    /// <summary>The formulation of a group's options: TorchSharp's SGD has only PyTorch's.</summary>
    private static MomentumFormulation FormulationOf(OptimizerOptions options) => options switch
    {
        Options own => own.formulation ?? MomentumFormulation.PyTorch,
        SGD.Options _ => MomentumFormulation.PyTorch,
        _ => throw new ArgumentException($"{options.GetType().FullName} are neither TorchSharp's SGD.Options nor MomentumSgd.Options."),
    };

    private static Options ReadOptions(BinaryReader reader, bool sgdFormat)
    {
        var options = new Options();
        if (sgdFormat) options.LoadSgdStateDict(reader);
        else options.LoadStateDict(reader);
        return options;
    }

    /// <summary>
    /// A buffer as <c>OptimizerState.SaveConditionalStateTensor</c> writes it: a flag, then the tensor. Read into
    /// a new tensor: TorchSharp's reader writes into the existing buffer's bytes, unconverted if its dtype differs.
    /// </summary>
    private static Tensor? ReadBuffer(BinaryReader reader, Device device) =>
        reader.ReadBoolean() ? TorchSharp.TensorExtensionMethods.Load(reader).to(device, disposeAfter: true).DetachFromDisposeScope() : null;

    /// <summary>A copy of a buffer on the parameter's device, so that two optimizers never share a tensor.</summary>
    private static Tensor? Copy(Tensor? buffer, Device device) => buffer?.to(device, copy: true).DetachFromDisposeScope();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        foreach (var (_, state) in _state) ((IDisposable)state).Dispose();
        _state.Clear();
        foreach (var bucket in layout.Values.SelectMany(l => l.Buckets)) bucket.Dispose();
        layout.Clear();
        places.Clear();
    }

    /// <summary>
    /// The hyperparameters of one parameter group: TorchSharp's SGD's, so that SGD loads them, and the formulation.
    /// </summary>
    public sealed class Options : SGD.Options
    {
#pragma warning disable CS1591 // Documented on MomentumSgd's constructor.
        public MomentumFormulation? formulation;
#pragma warning restore CS1591

        /// <summary>SGD's fields, then the formulation: this class's own file format.</summary>
        public override void SaveStateDict(BinaryWriter writer)
        {
            base.SaveStateDict(writer);
            writer.Write((int)formulation!.Value);
        }

        /// <summary>Reads what <see cref="SaveStateDict"/> wrote.</summary>
        /// <exception cref="InvalidDataException">These options have a formulation and the saved one is the other.</exception>
        public override void LoadStateDict(BinaryReader reader)
        {
            base.LoadStateDict(reader);
            var loaded = (MomentumFormulation)reader.ReadInt32();
            if (formulation is { } own && own != loaded) throw new InvalidDataException(FormulationMismatch(own, loaded));
            formulation = loaded;
        }

        /// <summary>Copies a group's options: a MomentumSgd's, or TorchSharp's SGD's (which are of the PyTorch form).</summary>
        public override void LoadStateDict(OptimizerOptions source)
        {
            base.LoadStateDict(source);
            formulation = FormulationOf(source);
        }

        /// <summary>SGD's fields only: TorchSharp's SGD file format.</summary>
        internal void SaveSgdStateDict(BinaryWriter writer) => base.SaveStateDict(writer);

        /// <summary>Reads SGD's fields, which are of the PyTorch form.</summary>
        internal void LoadSgdStateDict(BinaryReader reader)
        {
            base.LoadStateDict(reader);
            formulation = MomentumFormulation.PyTorch;
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

        /// <summary>
        /// A group with named hyperparameters, as TorchSharp's <c>SGD.ParamGroup(parameters, lr:, momentum:,
        /// dampening:, weight_decay:, nesterov:, maximize:)</c> builds one. One left out comes from the
        /// optimizer's defaults, as in a PyTorch param group; SGD's instead takes fixed defaults (lr 1e-3,
        /// momentum 0, ...), whatever its optimizer's, so name every hyperparameter SGD's group relied on.
        /// </summary>
        public ParamGroup(IEnumerable<Parameter> parameters, double? lr = null, double? momentum = null, double? dampening = null,
            double? weight_decay = null, bool? nesterov = null, bool? maximize = null, MomentumFormulation? formulation = null)
            : base(parameters, new Options
            {
                LearningRate = lr,
                momentum = momentum,
                dampening = dampening,
                weight_decay = weight_decay,
                nesterov = nesterov,
                maximize = maximize,
                formulation = formulation,
            })
        {
        }

        /// <summary>This group's momentum factor.</summary>
        public double Momentum
        {
            get => Options.momentum!.Value;
            set => Options.momentum = value;
        }
    }

    /// <summary>
    /// The chapter form's per-parameter state, the velocity v. The PyTorch form keeps TorchSharp's
    /// <see cref="SGD.State"/> instead, since its buffer is SGD's; both save their buffer the same way.
    /// </summary>
    public sealed class State : OptimizerState, IDisposable
    {
        /// <summary>v; null until the parameter's first step. A view of the bucket's flat state when the parameter is in one.</summary>
        public Tensor? momentum_buffer;

        /// <summary>State for one parameter.</summary>
        public State(Parameter parameter) : base(parameter) { }

        /// <inheritdoc />
        public override void Initialize(OptimizerOptions options) { }

        /// <summary>Frees the buffer.</summary>
        public void Dispose()
        {
            momentum_buffer?.Dispose();
            momentum_buffer = null;
        }

        /// <inheritdoc />
        public override void to(Device device)
        {
            if (momentum_buffer is null || (momentum_buffer.device_type == device.type && momentum_buffer.device_index == device.index)) return;
            var moved = momentum_buffer.to(device).DetachFromDisposeScope();
            momentum_buffer.Dispose();
            momentum_buffer = moved;
        }

        /// <inheritdoc />
        public override void SaveStateDict(BinaryWriter writer) => SaveConditionalStateTensor(writer, momentum_buffer);

        /// <inheritdoc />
        public override void LoadStateDict(BinaryReader reader)
        {
            // Into a new tensor, not the buffer in place: see ReadBuffer.
            Tensor? loaded = null;
            LoadConditionalStateTensor(reader, ref loaded, _parameter.device);
            Replace(loaded);
        }

        /// <summary>Takes a copy of another chapter state's velocity, so the two optimizers never share a tensor.</summary>
        public override void LoadStateDict(OptimizerState source) => Replace(Copy(((State)source).momentum_buffer, _parameter.device));

        private void Replace(Tensor? buffer)
        {
            momentum_buffer?.Dispose();
            momentum_buffer = buffer;
        }

        /// <inheritdoc />
        public override bool ApproximatelyEquals(OptimizerState other) =>
            other is State s && (momentum_buffer is null ? s.momentum_buffer is null : s.momentum_buffer is not null && momentum_buffer.allclose(s.momentum_buffer));
    }
}
