using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchMomentum.Optimizers;

namespace TorchMomentum.Sweeps;

/// <summary>Which of momentum's family a fused chunk's cells step by (issue 40: the family raced in the fused engine).</summary>
public enum FusedFamily
{
    /// <summary>The chapter's heavy ball, v = m v + lr g; p = p - v (momentum 0 is plain SGD).</summary>
    HeavyBall,
    /// <summary>PyTorch's SGD with Nesterov momentum: b = m b + g; p = p - lr (g + m b).</summary>
    Nesterov,
    /// <summary>Quasi-hyperbolic momentum (<see cref="Qhm"/>): b = beta b + (1 - beta) g; p = p - lr nu b - lr (1 - nu) g. Its knob beyond lr and beta: nu.</summary>
    Qhm,
    /// <summary>Lion without weight decay (<see cref="Optimizers.Lion"/>): p = p - lr sign(beta1 m + (1 - beta1) g); m = beta2 m + (1 - beta2) g. Its knob beyond lr and beta1: beta2.</summary>
    Lion,
}

/// <summary>
/// One family's step for one parameter of a group of cells, in the fused kernel's two forms side by side: a cell per
/// lane of a vector, and one lane in scalars, the same operations in the same order (so the two paths give the same
/// bits). Each lane has its own lr, its momentum (the family's beta or beta1) and, where the family has one, a third
/// knob; the kernel passes them as spans read where used, so that the backward's loop holds none of them (issue 39).
/// The state is the one buffer each of these families keeps (heavy ball's velocity, the momentum buffers, Lion's
/// average), starting at 0. A frozen lane's gradient arrives as 0 and its lr as 0, which leaves its weights as they are.
/// </summary>
internal interface IFusedUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Whether the step reads the third knob.</summary>
    static abstract bool UsesKnob { get; }

    /// <summary>The step for a vector of cells.</summary>
    static abstract void Vector(ref Vector256<T> p, ref Vector256<T> state, Vector256<T> g, ReadOnlySpan<T> lr, ReadOnlySpan<T> momentum, ReadOnlySpan<T> knob);

    /// <summary>The step for one cell.</summary>
    static abstract void Scalar(ref T p, ref T state, T g, T lr, T momentum, T knob);
}

/// <summary>The family's steps (<see cref="FusedFamily"/>), each a struct so that the JIT compiles the kernel once for each.</summary>
internal static class FusedUpdates
{
    /// <summary><see cref="FusedFamily.HeavyBall"/>: <see cref="MomentumUpdate"/>'s chapter step, as the sweep has always taken it.</summary>
    public struct HeavyBall<T> : IFusedUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static bool UsesKnob => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Vector(ref Vector256<T> p, ref Vector256<T> v, Vector256<T> g, ReadOnlySpan<T> lr, ReadOnlySpan<T> m, ReadOnlySpan<T> knob) =>
            MomentumUpdate.Chapter(ref p, ref v, g, Vector256.Create(m), Vector256.Create(lr));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scalar(ref T p, ref T v, T g, T lr, T m, T knob) => MomentumUpdate.Chapter(ref p, ref v, g, m, lr);
    }

    /// <summary><see cref="FusedFamily.Nesterov"/>, as torch.optim.SGD(nesterov=True) orders it: b = b m + g; d = g + m b; p = p + (-lr) d.</summary>
    public struct Nesterov<T> : IFusedUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static bool UsesKnob => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Vector(ref Vector256<T> p, ref Vector256<T> b, Vector256<T> g, ReadOnlySpan<T> lr, ReadOnlySpan<T> m, ReadOnlySpan<T> knob)
        {
            var momentum = Vector256.Create(m);
            b = b * momentum + g;
            p += -Vector256.Create(lr) * (g + momentum * b);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scalar(ref T p, ref T b, T g, T lr, T m, T knob)
        {
            b = b * m + g;
            p += -lr * (g + m * b);
        }
    }

    /// <summary><see cref="FusedFamily.Qhm"/>, as <see cref="Optimizers.Qhm"/> orders it: b = b beta + (1 - beta) g; p = p + (-lr nu) b; p = p + (-lr (1 - nu)) g.</summary>
    public struct Qhm<T> : IFusedUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static bool UsesKnob => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Vector(ref Vector256<T> p, ref Vector256<T> b, Vector256<T> g, ReadOnlySpan<T> lr, ReadOnlySpan<T> beta, ReadOnlySpan<T> nu)
        {
            Vector256<T> one = Vector256<T>.One, rate = Vector256.Create(lr), n = Vector256.Create(nu), beta1 = Vector256.Create(beta);
            b = b * beta1 + (one - beta1) * g;
            p += -(rate * n) * b;
            p += -(rate * (one - n)) * g;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scalar(ref T p, ref T b, T g, T lr, T beta, T nu)
        {
            b = b * beta + (T.One - beta) * g;
            p += -(lr * nu) * b;
            p += -(lr * (T.One - nu)) * g;
        }
    }

    /// <summary><see cref="FusedFamily.Lion"/>, as <see cref="Optimizers.Lion"/> orders it: c = m beta1 + g (1 - beta1); p = p + sign(c) (-lr); m = m beta2 + g (1 - beta2).</summary>
    public struct Lion<T> : IFusedUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static bool UsesKnob => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Vector(ref Vector256<T> p, ref Vector256<T> m, Vector256<T> g, ReadOnlySpan<T> lr, ReadOnlySpan<T> beta1, ReadOnlySpan<T> beta2)
        {
            Vector256<T> one = Vector256<T>.One, zero = Vector256<T>.Zero, b1 = Vector256.Create(beta1), b2 = Vector256.Create(beta2);
            var c = m * b1 + g * (one - b1);
            // sign(c) (-lr) as a select: -lr, lr or 0 (sign(0) = 0, as PyTorch's), each exact.
            var step = -Vector256.Create(lr);
            p += (Vector256.GreaterThan(c, zero) & step) - (Vector256.LessThan(c, zero) & step);
            m = m * b2 + g * (one - b2);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scalar(ref T p, ref T m, T g, T lr, T beta1, T beta2)
        {
            var c = m * beta1 + g * (T.One - beta1);
            T step = -lr;
            p += (c > T.Zero ? step : T.Zero) - (c < T.Zero ? step : T.Zero);
            m = m * beta2 + g * (T.One - beta2);
        }
    }
}
