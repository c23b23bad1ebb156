using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

/// <summary>
/// f(p) = sum(0.5 * c * p^2 + d * p) over a set of parameters: a small problem whose gradient, c * p + d,
/// depends on the parameters, so two optimizers that drift apart see different gradients.
/// </summary>
internal sealed class Quadratic : IDisposable
{
    private readonly Tensor[] c, d;

    public Quadratic(IEnumerable<Tensor> c, IEnumerable<Tensor> d)
    {
        this.c = c.ToArray();
        this.d = d.ToArray();
    }

    /// <summary>Random curvatures in [0, 2) and offsets in [-1, 1) for parameters of these shapes.</summary>
    public static Quadratic Random(IReadOnlyList<long[]> shapes, ScalarType dtype, Generator generator) => new(
        shapes.Select(s => (rand(s, dtype: dtype, generator: generator) * 2).DetachFromDisposeScope()),
        shapes.Select(s => (rand(s, dtype: dtype, generator: generator) * 2 - 1).DetachFromDisposeScope()));

    /// <summary>The same problem with its tensors on <paramref name="device"/>.</summary>
    public Quadratic To(Device device) => new(
        c.Select(t => t.to(device).DetachFromDisposeScope()), d.Select(t => t.to(device).DetachFromDisposeScope()));

    /// <summary>Parameters of the given shapes with values drawn from <paramref name="generator"/>.</summary>
    public static Parameter[] Parameters(IReadOnlyList<long[]> shapes, ScalarType dtype, Generator generator) =>
        shapes.Select(s => new Parameter(randn(s, dtype: dtype, generator: generator))).ToArray();

    /// <summary>Independent copies of <paramref name="parameters"/> with the same values.</summary>
    public static Parameter[] Copy(IEnumerable<Parameter> parameters)
    {
        using var noGrad = no_grad();
        return parameters.Select(p => new Parameter(p.detach().clone())).ToArray();
    }

    /// <summary>Sets every parameter's gradient to the gradient of f (replacing any old one).</summary>
    public void Backward(IReadOnlyList<Parameter> parameters)
    {
        using var scope = NewDisposeScope();
        foreach (var p in parameters) p.grad?.zero_();
        Tensor loss = tensor(0.0, dtype: parameters[0].dtype);
        for (int i = 0; i < parameters.Count; i++)
            loss = loss + (0.5 * c[i] * parameters[i] * parameters[i] + d[i] * parameters[i]).sum();
        loss.backward();
    }

    /// <summary>True when the two sets hold the same bits (NaN and signed zeros included).</summary>
    public static bool Bitwise(IReadOnlyList<Tensor?> a, IReadOnlyList<Tensor?> b)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
        {
            if (a[i] is null || b[i] is null)
            {
                if (a[i] is not null || b[i] is not null) return false;
                continue;
            }
            if (!Bits(a[i]!).SequenceEqual(Bits(b[i]!))) return false;
        }
        return true;
    }

    private static long[] Bits(Tensor t)
    {
        using var asDouble = t.detach().cpu().to(ScalarType.Float64).contiguous();
        return asDouble.data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits).ToArray();
    }

    public void Dispose()
    {
        foreach (var t in c.Concat(d)) t.Dispose();
    }
}
