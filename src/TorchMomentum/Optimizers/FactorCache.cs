using TorchSharp;
using static TorchSharp.torch;

namespace TorchMomentum.Optimizers;

/// <summary>
/// Hyperparameters as 0-dim tensors, made once per value, dtype and device. Multiplying by such a tensor
/// rounds exactly as multiplying by the number does (libtorch turns the number into the same tensor), but
/// skips that conversion on every call: a quarter of the cost of a step on small tensors. And as Scalars, for an
/// operation's alpha, made once per value rather than left for the garbage collector at every step (<see cref="Scalars"/>).
/// </summary>
internal sealed class FactorCache : IDisposable
{
    // A scheduler that changes a value every step would otherwise grow the cache without end.
    private const int Capacity = 16;
    // Keyed by the value's bits: 0.0 and -0.0 are equal as doubles, but an alpha of -0.0 (the -lr of an lr of 0) and
    // one of 0.0 (the 1 - dampening of a dampening of 1) give zeros of different signs.
    private readonly Dictionary<(long, ScalarType, DeviceType, int), Tensor> factors = [];
    private readonly Dictionary<long, Scalar> scalars = [];

    /// <summary><paramref name="value"/> as a Scalar, for an alpha.</summary>
    public Scalar ScalarOf(double value)
    {
        long bits = BitConverter.DoubleToInt64Bits(value);
        if (!scalars.TryGetValue(bits, out var scalar))
        {
            if (scalars.Count >= Capacity) Dispose();
            scalars[bits] = scalar = value.ToScalar();
        }
        return scalar;
    }

    /// <summary><paramref name="value"/> as a 0-dim tensor of <paramref name="like"/>'s dtype, on its device.</summary>
    public Tensor Of(double value, Tensor like)
    {
        var key = (BitConverter.DoubleToInt64Bits(value), like.dtype, like.device_type, like.device_index);
        if (!factors.TryGetValue(key, out var factor))
        {
            if (factors.Count >= Capacity) Dispose();
            factors[key] = factor = tensor(value, like.dtype, like.device).DetachFromDisposeScope();
        }
        return factor;
    }

    /// <summary>Frees every cached tensor; the cache stays usable.</summary>
    public void Dispose()
    {
        foreach (var factor in factors.Values) factor.Dispose();
        factors.Clear();
        foreach (var scalar in scalars.Values) scalar.Dispose();
        scalars.Clear();
    }
}
