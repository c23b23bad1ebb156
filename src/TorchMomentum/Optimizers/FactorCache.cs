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
    private readonly Dictionary<(double, ScalarType, DeviceType, int), Tensor> factors = [];
    private readonly Dictionary<double, Scalar> scalars = [];

    /// <summary><paramref name="value"/> as a Scalar, for an alpha.</summary>
    public Scalar ScalarOf(double value)
    {
        if (!scalars.TryGetValue(value, out var scalar))
        {
            if (scalars.Count >= Capacity) Dispose();
            scalars[value] = scalar = value.ToScalar();
        }
        return scalar;
    }

    /// <summary><paramref name="value"/> as a 0-dim tensor of <paramref name="like"/>'s dtype, on its device.</summary>
    public Tensor Of(double value, Tensor like)
    {
        var key = (value, like.dtype, like.device_type, like.device_index);
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
