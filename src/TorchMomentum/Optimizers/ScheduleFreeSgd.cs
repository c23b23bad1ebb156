using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;

namespace TorchMomentum.Optimizers;

/// <summary>
/// An optimizer whose weights for evaluation differ from those it trains at: <see cref="Eval"/> puts the former in
/// the parameters, <see cref="Train"/> the latter back (PyTorch's schedule-free optimizers' <c>eval()</c> and <c>train()</c>).
/// </summary>
public interface IEvalMode
{
    /// <summary>Puts the evaluation weights in the parameters; call before evaluating or saving the model.</summary>
    void Eval();

    /// <summary>Puts the training weights back; call before the next step.</summary>
    void Train();
}

/// <summary>
/// Schedule-free SGD (Defazio, Yang, Mehta, Mishchenko, Khaled and Cutkosky 2024, "The Road Less Scheduled"), as
/// <c>schedulefree/sgd_schedulefree_reference.py</c> of facebookresearch/schedule_free computes it. Per group, at
/// its k-th step (from 0), with warm-up, r and weight_lr_power:
/// <code>
///   lr_k = lr * min(1, (k + 1) / warmup_steps);   lr_max = max(lr_max, lr_k)
///   w_k = (k + 1)^r * lr_max^weight_lr_power;     c = w_k / (w_0 + ... + w_k)      (0 while the sum is 0)
/// </code>
/// and per parameter, with the gradient g taken at y, which the parameters hold while training:
/// <code>
///   g = g + weight_decay * y
///   z = z - lr_k * g                              (z, x, y start as copies of the parameter)
///   x = (1 - c) * x + c * z                       (a weighted average of the z's)
///   y = momentum * x + (1 - momentum) * z;  p = y
/// </code>
/// Evaluate at x: <see cref="Eval"/> copies x into the parameters, <see cref="Train"/> copies y back, and
/// <see cref="step"/> refuses to run in eval mode, as the reference does.
/// </summary>
public sealed class ScheduleFreeSgd : FamilyOptimizer<ScheduleFreeSgd.Options>, IEvalMode, IMomentum
{
    /// <summary>The state's fields: the SGD sequence z, the average x, the training point y.</summary>
    public const string Z = "z", X = "x", Y = "y";

    /// <summary>Schedule-free SGD over one group of parameters.</summary>
    /// <param name="parameters">The parameters to optimize.</param>
    /// <param name="lr">Learning rate, &gt; 0 (the reference's default 1).</param>
    /// <param name="momentum">The interpolation between x and z, in (0, 1), as the reference requires.</param>
    /// <param name="weight_decay">L2 penalty added to the gradient at y, &gt;= 0.</param>
    /// <param name="warmup_steps">Steps of linear learning-rate warm-up, &gt;= 0.</param>
    /// <param name="r">Polynomial weighting of the average, &gt;= 0.</param>
    /// <param name="weight_lr_power">The power of the largest learning rate so far in each weight, &gt;= 0.</param>
    /// <exception cref="ArgumentException">An argument out of its range, named.</exception>
    public ScheduleFreeSgd(IEnumerable<Parameter> parameters, double lr = 1.0, double momentum = 0.9, double weight_decay = 0,
        long warmup_steps = 0, double r = 0, double weight_lr_power = 2)
        : this([new ParamGroup<Options>(parameters)], lr, momentum, weight_decay, warmup_steps, r, weight_lr_power) { }

    /// <summary>Schedule-free SGD over parameter groups; a group's own options override these defaults.</summary>
    public ScheduleFreeSgd(IEnumerable<ParamGroup<Options>> groups, double lr = 1.0, double momentum = 0.9, double weight_decay = 0,
        long warmup_steps = 0, double r = 0, double weight_lr_power = 2)
        : base(groups, new Options { LearningRate = lr, momentum = momentum, weight_decay = weight_decay, warmup_steps = warmup_steps, r = r, weight_lr_power = weight_lr_power }) { }

    /// <summary>The default momentum.</summary>
    public double Momentum { get => Defaults.momentum!.Value; set => Defaults.momentum = value; }

    /// <inheritdoc />
    public void Eval() => Switch(toTrain: false, X);

    /// <inheritdoc />
    public void Train() => Switch(toTrain: true, Y);

    private void Switch(bool toTrain, string field)
    {
        using var noGrad = no_grad();
        foreach (var group in _parameter_groups)
        {
            var o = (Options)group.Options;
            if (o.train_mode == toTrain) continue;
            foreach (var p in group.Parameters)
                if (StateOf(p)[field] is { } weights) p.copy_(weights);
            o.train_mode = toTrain;
        }
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The optimizer is in eval mode: call <see cref="Train"/> first.</exception>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        if (!((Options)_parameter_groups[0].Options).train_mode)
            throw new InvalidOperationException("ScheduleFreeSgd is in eval mode (its parameters hold x): call Train() before step().");
        return base.step(closure);
    }

    private protected override void Complete(Options o, Options d)
    {
        o.momentum ??= d.momentum;
        o.weight_decay ??= d.weight_decay;
        o.warmup_steps ??= d.warmup_steps;
        o.r ??= d.r;
        o.weight_lr_power ??= d.weight_lr_power;
    }

    private protected override void Validate(Options o)
    {
        CheckLearningRate(o);
        ParameterGroups.Check("momentum", new Validation.Interval(0, 1, MinOpen: true, MaxOpen: true), o.momentum!.Value);
        ParameterGroups.Check("weight_decay", new Validation.Interval(0), o.weight_decay!.Value);
        ParameterGroups.Check("warmup_steps", new Validation.Interval(0), o.warmup_steps!.Value);
        ParameterGroups.Check("r", new Validation.Interval(0), o.r!.Value);
        ParameterGroups.Check("weight_lr_power", new Validation.Interval(0), o.weight_lr_power!.Value);
    }

    private protected override IReadOnlyList<string> StateNames(Options o) => [Z, X, Y];

    private protected override void BeginGroup(Options o)
    {
        (o.scheduled_lr, o.lr_max, o.weight_sum, o.ckp1) = Schedule(o.k, o.LearningRate!.Value, o.warmup_steps!.Value, o.r!.Value, o.weight_lr_power!.Value, o.lr_max, o.weight_sum);
    }

    /// <summary>
    /// Step <paramref name="k"/>'s (from 0) lr_k and c from the running lr_max and weight sum (the schedule above), and
    /// their new values: the optimizer's and the fused sweep engine's one schedule.
    /// </summary>
    public static (double Lr, double LrMax, double WeightSum, double C) Schedule(long k, double lr, double warmupSteps, double r, double weightLrPower, double lrMax, double weightSum)
    {
        double schedule = k < warmupSteps ? (k + 1) / warmupSteps : 1.0;
        double scheduled = lr * schedule;
        lrMax = Math.Max(scheduled, lrMax);
        double weight = Math.Pow(k + 1, r) * Math.Pow(lrMax, weightLrPower);
        weightSum += weight;
        return (scheduled, lrMax, weightSum, weightSum == 0 ? 0 : weight / weightSum);
    }

    private protected override void Update(Parameter p, Tensor g, NamedState state, Options o)
    {
        if (state[Z] is null)
        {
            state.Start(Z, p);
            state.Start(X, p);
            state.Start(Y, p);
        }
        Tensor z = state[Z]!, x = state[X]!, y = state[Y]!;
        if (o.weight_decay!.Value != 0) g = g.add(y, alpha: factors.ScalarOf(o.weight_decay.Value));
        z.add_(g, alpha: factors.ScalarOf(-o.scheduled_lr));
        // 1 - c changes every step: a tensor of this step's scope, not one more cached factor.
        using (var keep = tensor(1 - o.ckp1, p.dtype, p.device)) x.mul_(keep).add_(z, alpha: factors.ScalarOf(o.ckp1));
        using (var mixed = x.mul(factors.Of(o.momentum!.Value, p)).add_(z, alpha: factors.ScalarOf(1 - o.momentum.Value)))
            y.copy_(mixed);
        p.copy_(y);
    }

    private protected override void EndGroup(Options o) => o.k++;

    /// <summary>
    /// Schedule-free SGD's hyperparameters for one group, and the group's running numbers (the reference keeps them
    /// in the group too): steps taken, the sum of the average's weights, the largest learning rate so far, the mode.
    /// </summary>
    public sealed class Options : OptimizerOptions
    {
        /// <summary>The interpolation between x and z, in (0, 1).</summary>
        public double? momentum;
        /// <summary>L2 penalty, &gt;= 0.</summary>
        public double? weight_decay;
        /// <summary>Steps of linear warm-up, &gt;= 0.</summary>
        public long? warmup_steps;
        /// <summary>Polynomial weighting power, &gt;= 0.</summary>
        public double? r;
        /// <summary>Power of lr_max in the weights, &gt;= 0.</summary>
        public double? weight_lr_power;
        /// <summary>Steps the group has taken.</summary>
        public long k;
        /// <summary>Sum of the average's weights so far.</summary>
        public double weight_sum;
        /// <summary>Largest scheduled learning rate so far (-1 before the first step, as the reference).</summary>
        public double lr_max = -1.0;
        /// <summary>Whether the parameters hold y (training) rather than x (evaluation).</summary>
        public bool train_mode = true;
        /// <summary>This step's learning rate after warm-up, and its weight in the average.</summary>
        internal double scheduled_lr, ckp1;

        /// <inheritdoc />
        public override void SaveStateDict(BinaryWriter writer)
        {
            base.SaveStateDict(writer);
            writer.Write(momentum!.Value);
            writer.Write(weight_decay!.Value);
            writer.Write(warmup_steps!.Value);
            writer.Write(r!.Value);
            writer.Write(weight_lr_power!.Value);
            writer.Write(k);
            writer.Write(weight_sum);
            writer.Write(lr_max);
            writer.Write(train_mode);
        }

        /// <inheritdoc />
        public override void LoadStateDict(BinaryReader reader)
        {
            base.LoadStateDict(reader);
            (momentum, weight_decay, warmup_steps, r, weight_lr_power) = (reader.ReadDouble(), reader.ReadDouble(), reader.ReadInt64(), reader.ReadDouble(), reader.ReadDouble());
            (k, weight_sum, lr_max, train_mode) = (reader.ReadInt64(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadBoolean());
        }

        /// <inheritdoc />
        public override void LoadStateDict(OptimizerOptions source)
        {
            base.LoadStateDict(source);
            var s = (Options)source;
            (momentum, weight_decay, warmup_steps, r, weight_lr_power) = (s.momentum, s.weight_decay, s.warmup_steps, s.r, s.weight_lr_power);
            (k, weight_sum, lr_max, train_mode) = (s.k, s.weight_sum, s.lr_max, s.train_mode);
        }
    }
}
