using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace TorchMomentum.Optimizers;

/// <summary>
/// What a family optimizer's one-pass CPU loop needs to make libtorch's elementwise operations, bit for bit: which
/// tensors it may run on, their elements as spans, and libtorch's own rounding. libtorch multiplies by a number
/// with one rounding (<c>mul_</c>), adds with one (<c>add_</c> without alpha), and adds <c>alpha * b</c> with a fused
/// multiply-add, one rounding for both (its vectorized <c>add</c> is <c>fmadd(b, alpha, a)</c>), all in the tensor's
/// own type; .NET never fuses a * b + c by itself, so each of those is written out here, once.
/// </summary>
internal static class CpuLoop
{
    /// <summary>Whether every tensor is a dense, contiguous CPU tensor of float32 or float64 with <paramref name="first"/>'s dtype and size.</summary>
    public static bool Fits(Tensor first, params Tensor[] others)
    {
        if (first.dtype is not (ScalarType.Float32 or ScalarType.Float64)) return false;
        foreach (var t in others.Prepend(first))
            if (t.device_type != TorchSharp.DeviceType.CPU || t.is_sparse || !t.is_contiguous() || t.dtype != first.dtype || t.numel() != first.numel()
                || t.numel() > int.MaxValue / 8)
                return false;
        return true;
    }

    /// <summary>The elements of a tensor <see cref="Fits"/> accepted, in place.</summary>
    public static Span<T> Of<T>(Tensor t) where T : unmanaged => MemoryMarshal.Cast<byte, T>(t.bytes);


    /// <summary><paramref name="value"/> in the tensor's type, rounded as libtorch rounds a Python number it is given.</summary>
    public static T In<T>(double value) where T : IFloatingPointIeee754<T> => T.CreateTruncating(value);

    /// <summary>a * b + c with one rounding: libtorch's <c>c.add_(a, alpha: b)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Fma<T>(Vector<T> a, Vector<T> b, Vector<T> c) => typeof(T) == typeof(float)
        // Vector.As reinterprets in registers; Unsafe.As would take the arguments' addresses and send them through memory.
        ? Vector.As<float, T>(Vector.FusedMultiplyAdd(Vector.As<T, float>(a), Vector.As<T, float>(b), Vector.As<T, float>(c)))
        : Vector.As<double, T>(Vector.FusedMultiplyAdd(Vector.As<T, double>(a), Vector.As<T, double>(b), Vector.As<T, double>(c)));

    /// <summary>libtorch's <c>sign</c>: 1 above 0, -1 below, 0 at either zero and at NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Sign<T>(Vector<T> x) where T : IFloatingPointIeee754<T> =>
        Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<T>.Zero), Vector<T>.One, Vector<T>.Zero)
        - Vector.ConditionalSelect(Vector.LessThan(x, Vector<T>.Zero), Vector<T>.One, Vector<T>.Zero);

    /// <summary>The same, for one element.</summary>
    public static T Sign<T>(T x) where T : IFloatingPointIeee754<T> => (x > T.Zero ? T.One : T.Zero) - (x < T.Zero ? T.One : T.Zero);

    /// <summary>The whole vectors of a span, for the loop's body; the rest (fewer than a vector) is its tail.</summary>
    public static Span<Vector<T>> Vectors<T>(Span<T> span) where T : unmanaged => MemoryMarshal.Cast<T, Vector<T>>(span);
}
