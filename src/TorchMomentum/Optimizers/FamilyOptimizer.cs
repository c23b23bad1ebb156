using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Optimizers;

/// <summary>
/// What the momentum family's optimizers (<see cref="Qhm"/>, <see cref="AggMo"/>, <see cref="AccSgd"/>,
/// <see cref="ScheduleFreeSgd"/>, <see cref="Lion"/>) share, in TorchSharp's conventions: parameter groups whose
/// unset options come from the optimizer's defaults, <c>step</c> under <c>no_grad</c> in a dispose scope,
/// <c>zero_grad</c>, <c>state_dict</c> and <c>load_state_dict</c> (in memory and to a file), moving state to a
/// device, and learning-rate schedulers through each group's learning rate. Each optimizer adds its options,
/// their checks and its update rule, one parameter at a time in its reference's order of operations.
/// </summary>
/// <typeparam name="TOptions">Its hyperparameters.</typeparam>
public abstract class FamilyOptimizer<TOptions> : OptimizerHelper where TOptions : OptimizerOptions, new()
{
    /// <summary>Hyperparameters as 0-dim tensors and Scalars, made once, so a step leaves nothing for the garbage collector.</summary>
    private protected readonly FactorCache factors = new();

    private protected FamilyOptimizer(IEnumerable<ParamGroup<TOptions>> groups, TOptions defaults)
    {
        defaults.InitialLearningRate = defaults.LearningRate!.Value;
        _defaults = defaults;
        _parameter_groups = [];
        foreach (var group in groups) add_param_group(group);
    }

    /// <summary>The optimizer's defaults: what a group's unset options take.</summary>
    public TOptions Defaults => (TOptions)_defaults;

    /// <summary>The state of <paramref name="parameter"/>: its named tensors.</summary>
    public NamedState StateOf(Parameter parameter) => (NamedState)_state[parameter.Handle];

    /// <summary>Sets each unset option of <paramref name="group"/> from <paramref name="defaults"/>.</summary>
    private protected abstract void Complete(TOptions group, TOptions defaults);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first option out of its range.</summary>
    private protected abstract void Validate(TOptions options);

    /// <summary>The names of the state the optimizer keeps per parameter, with these options.</summary>
    private protected abstract IReadOnlyList<string> StateNames(TOptions options);

    /// <summary>The update of one parameter that has a gradient, in place; its state's fields start empty.</summary>
    private protected abstract void Update(Parameter p, Tensor g, NamedState state, TOptions options);

    /// <summary>What a group does once per step before its parameters (schedule-free's average weight).</summary>
    private protected virtual void BeginGroup(TOptions options) { }

    /// <summary>What a group does once per step after its parameters (schedule-free's step count).</summary>
    private protected virtual void EndGroup(TOptions options) { }

    /// <inheritdoc />
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup<TOptions>>(group =>
    {
        var options = group.Options;
        BeginGroup(options);
        foreach (var parameter in group.Parameters)
            if (parameter.grad is { } grad) Update(parameter, grad, StateOf(parameter), options);
        EndGroup(options);
    }, closure);

    /// <summary>Adds a group: unset options from the defaults, checked, each parameter once in the whole optimizer.</summary>
    /// <exception cref="ArgumentException">An option out of its range, or a parameter already in a group.</exception>
    public override void add_param_group(ParamGroup param_group)
    {
        param_group.Options ??= new TOptions();
        var options = (TOptions)param_group.Options;
        options.LearningRate ??= _defaults.LearningRate;
        Complete(options, (TOptions)_defaults);
        options.InitialLearningRate = options.LearningRate!.Value;
        Validate(options);
        var parameters = param_group.Parameters.ToArray();
        ParameterGroups.RefuseRepeated(_parameter_groups, parameters);
        _parameter_groups.Add(param_group);
        foreach (var parameter in parameters) _state[parameter.Handle] = new NamedState(parameter, StateNames(options));
    }

    /// <summary>The group's learning rate is above 0 (<see cref="ParameterGroups.PositiveLearningRate"/>).</summary>
    private protected static void CheckLearningRate(OptimizerOptions options) => ParameterGroups.PositiveLearningRate(options.LearningRate!.Value);

    /// <summary>A momentum-like factor in [0, 1).</summary>
    private protected static void CheckBeta(string name, double value) =>
        ParameterGroups.Check(name, new Validation.Interval(0, 1, MaxOpen: true), value);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        foreach (var (_, state) in _state) ((NamedState)state).Dispose();
        _state.Clear();
        factors.Dispose();
    }
}
