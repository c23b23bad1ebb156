using static TorchSharp.torch;

namespace TorchMomentum.Data;

/// <summary>
/// One run's share of torch's global random generator. The chapter's draws (the data, nn.Linear's
/// initialisation, the DataLoader's epoch order) must come from the global generator to equal PyTorch's, and
/// TorchSharp has one per process, so two runs in one process (the explore server's trainings) would
/// interleave their draws. A run therefore keeps its own generator state between draws and swaps it in for
/// each draw, under a process-wide lock: every run sees exactly the numbers it would see alone.
/// </summary>
public sealed class RunGenerator
{
    private static readonly object Global = new();
    private byte[] state;

    /// <summary>A generator in the state <c>torch.manual_seed(seed)</c> leaves.</summary>
    public RunGenerator(long seed)
    {
        lock (Global)
        {
            manual_seed(seed);
            state = Capture();
        }
    }

    /// <summary>A generator in a state taken from another (<see cref="State"/>), to draw the same numbers again.</summary>
    public RunGenerator(byte[] state) => this.state = (byte[])state.Clone();

    /// <summary>
    /// How many bytes the generator's state has (whatever the seed): read once, without seeding, so that asking
    /// does not disturb the global generator.
    /// </summary>
    public static int StateLength => stateLength.Value;

    private static readonly Lazy<int> stateLength = new(() =>
    {
        lock (Global) return Capture().Length;
    });

    /// <summary>The generator's state between draws, as <c>torch.random.get_rng_state()</c> gives it (for checkpoints).</summary>
    public byte[] State
    {
        get => (byte[])state.Clone();
        set => state = (byte[])value.Clone();
    }

    /// <summary>Runs <paramref name="draws"/> with this run's state in the global generator, and keeps the state it leaves.</summary>
    public T Draw<T>(Func<T> draws)
    {
        lock (Global)
        {
            // from_array lends the array to libtorch (pinned while the tensor lives) where tensor() would copy it.
            using (var current = from_array(state)) random.set_rng_state(current);
            try
            {
                return draws();
            }
            finally
            {
                CaptureInto(state);
            }
        }
    }

    /// <summary>
    /// The global state into this run's array, whose length never changes: a draw allocates no copy of the state (a
    /// sweep draws every epoch in every chunk; two 5 KB copies a draw were 100 KB of garbage an epoch in the default sweep).
    /// </summary>
    private static void CaptureInto(byte[] state)
    {
        using var current = random.get_rng_state();
        current.bytes.CopyTo(state);
    }

    private static byte[] Capture()
    {
        using var current = random.get_rng_state();
        return current.data<byte>().ToArray();
    }
}
