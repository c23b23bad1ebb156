using TorchMomentum.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Training;

/// <summary>
/// One named piece of a contestant's state that a checkpoint keeps, with how to read it and put it back: a
/// contestant's entry in <see cref="ContestantKinds"/> lists them, so its checkpoint is table data and a new
/// optimizer needs no code in <see cref="Checkpoint"/> or <see cref="ContestantCheckpoint"/>.
/// </summary>
/// <param name="Name">Its name in the checkpoint, the reference's where it has one (exp_avg, momentum_buffer, z).</param>
public abstract record KeptState(string Name);

/// <summary>A number: a step count, a running sum. Saved as a double, which holds a count up to 2^53 exactly.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Get">Reads it from the contestant.</param>
/// <param name="Set">Puts a saved value back.</param>
public sealed record KeptNumber(string Name, Func<Contestant, double> Get, Action<Contestant, double> Set) : KeptState(Name);

/// <summary>A tensor per parameter, in the net's parameter order; null before the state exists (before a first step).</summary>
/// <param name="Name">Its name.</param>
/// <param name="Get">Reads parameter j's tensor, or null.</param>
/// <param name="Put">Puts a loaded tensor back for parameter j; the contestant owns it after.</param>
public sealed record KeptTensors(string Name, Func<Contestant, int, Tensor?> Get, Action<Contestant, int, Tensor> Put) : KeptState(Name);

/// <summary>The kept states the contestant table uses, each written once.</summary>
public static class Kept
{
    /// <summary>The live per-parameter states of a contestant's optimizer, in parameter order.</summary>
    public static IReadOnlyList<OptimizerState> States(Contestant c) => ((OptimizerHelper)c.Optimizer).state_dict().State;

    /// <summary>SGD's momentum buffer, or the hand-written step's velocity (<see cref="MomentumSgd.BufferOf"/>).</summary>
    public static readonly KeptTensors MomentumBuffer = new("momentum_buffer",
        (c, j) => MomentumSgd.BufferOf(States(c)[j]), (c, j, t) => MomentumSgd.PutBuffer(States(c)[j], t));

    /// <summary>The fields of a family optimizer's <see cref="NamedState"/>; one its settings do not make (AggMo's fourth buffer with three betas) reads as null.</summary>
    public static IEnumerable<KeptTensors> Named(params string[] names) =>
        names.Select(name => new KeptTensors(name, (c, j) => States(c)[j] is NamedState s && s.Names.Contains(name) ? s[name] : null, (c, j, t) => ((NamedState)States(c)[j]).Put(name, t)));

    /// <summary>A tensor field of TorchSharp's own state type <typeparamref name="TState"/>, which it creates with the optimizer.</summary>
    public static KeptTensors Field<TState>(string name, Func<TState, Tensor> get) where TState : OptimizerState =>
        new(name, (c, j) => get((TState)States(c)[j]), (c, j, t) =>
        {
            using (no_grad()) get((TState)States(c)[j]).copy_(t);
            t.Dispose();
        });

    /// <summary>A step count every parameter's state of type <typeparamref name="TState"/> holds alike (Adam's bias corrections count it).</summary>
    public static KeptNumber Step<TState>(Func<TState, long> get, Action<TState, long> set) where TState : OptimizerState =>
        new("step", c => get((TState)States(c)[0]), (c, value) =>
        {
            foreach (var state in States(c)) set((TState)state, (long)value);
        });

    /// <summary>A running number of the optimizer's first parameter group's options (schedule-free keeps its step count and sums there).</summary>
    public static KeptNumber GroupNumber<TOptions>(string name, Func<TOptions, double> get, Action<TOptions, double> set) where TOptions : OptimizerOptions =>
        new(name, c => get((TOptions)((OptimizerHelper)c.Optimizer).state_dict().Options[0]), (c, value) => set((TOptions)((OptimizerHelper)c.Optimizer).state_dict().Options[0], value));

    /// <summary>A weight average's weights and its count (<see cref="AveragedModel"/>).</summary>
    public static IEnumerable<KeptState> Average =>
    [
        new KeptTensors("average", (c, j) => c.Average!.Parameters[j], (c, j, t) =>
        {
            using (no_grad()) c.Average!.Parameters[j].copy_(t);
            t.Dispose();
        }),
        new KeptNumber("n_averaged", c => c.Average!.NAveraged, (c, value) => c.Average!.NAveraged = (long)value),
    ];
}
