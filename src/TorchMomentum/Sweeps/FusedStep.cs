using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchMomentum.Model;
using static TorchMomentum.Model.NetMath;

namespace TorchMomentum.Sweeps;

/// <summary>
/// One step of the chapter's loop for a group of cells in one pass, without libtorch: the forward (<see cref="NetMath"/>'s
/// vector and scalar forms), the loss, the
/// gradient worked out by hand and the chapter's momentum step (section 5.5.1, <see cref="Optimizers.MomentumUpdate.Chapter(TorchSharp.torch.Tensor, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor)"/>'s
/// arithmetic), one cell per lane of a <see cref="Vector256{T}"/> (8 float32 cells, or 4 float64). A group's weights
/// and velocities are 2 (3 hidden + 1) vectors: 4 KB at the chapter's hidden 20, in L1; at a hidden of some
/// thousands they no longer fit it, and a step reads them from L2.
/// <code>
///   forward, per sample b:   a_j = relu(fma(w1_j, x_b, b1_j)), kept;  out = fma(w2_j, a_j, out), from b2
///                            e = out - y_b;  loss = fma(e, e, loss);  r_b = e * (2 / B);  G0 += r_b
///   backward, per unit j:    over the samples, with the forward's a (the scalar path computes it again, the same bits)
///                            S1 += [a > 0] r_b;  S2 = fma([a > 0] r_b, x_b, S2);  G2 = fma(r_b, a, G2)
///                            dw1_j = w2_j S2,  db1_j = w2_j S1,  dw2_j = G2;  then the step of those three
///   at the end:              db2 = G0;  loss /= B
///   the step:                v = m * v + lr * g;  p = p - v      (two products and a sum, as MomentumUpdate.Chapter)
/// </code>
/// ([a &gt; 0] is [z &gt; 0]: the relu is never NaN or -0, see below.) Four samples (forward) and four units (backward)
/// at once keep four chains of FMAs in flight (an FMA's result takes four cycles), each sum in its own order, so the
/// bits do not depend on it. The backward's twelve sums, a sample's r and x, the unit's a and its mask are sixteen
/// vectors: exactly AVX2's 16 registers, so the step's lr, momentum and frozen mask are read from memory where they are
/// used (once a unit) instead of being held, and keeping relu(z) rather than z leaves the backward no max and no
/// constant zero to hold. With AVX-512's encoding the JIT has 32 registers and the same code fits with room;
/// <see cref="Path"/> names which one ran. Holding the three step vectors too spilled two sums to the stack on AVX2,
/// every sample: 41% of the FMA peak against 56-58% now, the same on the AVX-512 path (the benchmarks project's `-- fused`,
/// docs/performance.md). A step reads each sample's x and r from L1 a few times and writes nothing else but the
/// weights, velocities and the kept activations.
/// </summary>
/// <remarks>
/// The same bits wherever a cell runs: every operation is lane-wise, every sum runs over samples and hidden units
/// in one order, and the scalar path (<see cref="StepScalar"/>, for a machine without AVX2 and FMA, or forced) does
/// the same operations with <see cref="IFloatingPointIeee754{TSelf}.FusedMultiplyAdd"/>, which rounds once as
/// <see cref="Vector256.FusedMultiplyAdd(Vector256{float}, Vector256{float}, Vector256{float})"/> does. The relu is a
/// maxps (<see cref="Vector256.MaxNative{T}(Vector256{T}, Vector256{T})"/>, z &gt; 0 ? z : 0, its second operand when
/// either is NaN: +0 for a NaN or -0), and the scalar path writes exactly that, so a NaN goes the same way in both.
/// Layout of a group's state: parameter k's lanes at [k * L, (k + 1) * L), parameters in the net's order
/// (hidden.weight, hidden.bias, predict.weight, predict.bias).
/// </remarks>
public static class FusedStep
{
    /// <summary>
    /// Whether the vector path runs here: 256-bit vectors and FMA in hardware, that is x64 with AVX2 and FMA. (Arm has no
    /// 256-bit vectors in .NET, and its max keeps a NaN where maxps and the scalar path take 0: it takes the scalar path.)
    /// </summary>
    public static bool VectorPathRuns { get; } = Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported;

    /// <summary>Whether the JIT has 32 vector registers here (AVX-512's encoding, even for 256-bit vectors) rather than AVX2's 16.</summary>
    public static bool WideRegisterFile { get; } = System.Runtime.Intrinsics.X86.Avx512F.IsSupported;

    /// <summary>The path a step takes here, for benchmarks and reports: "avx-512 (32 registers)", "avx2 (16 registers)" or "scalar: no 256-bit vectors with FMA here".</summary>
    public static string Path => !VectorPathRuns ? "scalar: no 256-bit vectors with FMA here" : WideRegisterFile ? "avx-512 (32 registers)" : "avx2 (16 registers)";

    /// <summary>Lanes of a group: the cells one vector holds.</summary>
    public static int Lanes<T>() where T : unmanaged => Vector256<T>.Count;

    /// <summary>Numbers of a group's scratch for a batch of <paramref name="batch"/>: each sample's x, r and relu(z_1)..relu(z_hidden), a vector each.</summary>
    public static long ScratchLength<T>(int hidden, int batch) where T : unmanaged => (2L + hidden) * batch * Lanes<T>();

    /// <summary>
    /// Room for <paramref name="length"/> numbers that starts on a 64-byte boundary and never moves (an array on the
    /// pinned heap, cut at the boundary), for a group's weights, velocities and scratch: an array of the ordinary heap
    /// starts 16 bytes past one, so half of its vectors straddle two cache lines, and the kernel ran 20% slower on them
    /// (measured: 8.5 to 8.9 against 10.7 to 10.9 million cell-steps/s).
    /// </summary>
    public static ArraySegment<T> CacheAligned<T>(int length) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>(), slack = 64 / size;
        var array = GC.AllocateArray<T>(length + slack, pinned: true);
        long address = System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
        return new ArraySegment<T>(array, (int)((64 - address % 64) % 64) / size, length);
    }

    /// <summary>
    /// One step of a group of <see cref="Lanes{T}"/> cells on the batch (<paramref name="x"/>, <paramref name="y"/>):
    /// writes each lane's loss (the batch's mean squared error before the update) and updates weights and velocities.
    /// A frozen lane (<paramref name="frozen"/> all bits set) takes its gradient as 0, whatever its forward gave (a
    /// diverged cell's NaN); it keeps its weights and a zero velocity only because its caller also zeroed its lr,
    /// momentum and velocity when it froze it (<see cref="FusedChunk{T}"/>), as v = m v + lr 0 would otherwise go on.
    /// </summary>
    /// <param name="weights">The group's parameters, (3 hidden + 1) x lanes.</param>
    /// <param name="velocities">Their velocities, the same layout.</param>
    /// <param name="lr">Each lane's learning rate.</param>
    /// <param name="momentum">Each lane's momentum.</param>
    /// <param name="frozen">All bits set in a frozen lane, 0 elsewhere.</param>
    /// <param name="x">The batch's inputs.</param>
    /// <param name="y">Its targets.</param>
    /// <param name="hidden">Hidden units.</param>
    /// <param name="scratch">Room for (2 + hidden) x batch x lanes numbers.</param>
    /// <param name="loss">Each lane's loss, written.</param>
    /// <param name="scalar">Take the scalar path even where vectors run (the tests compare the two).</param>
    public static void Step<T>(Span<T> weights, Span<T> velocities, ReadOnlySpan<T> lr, ReadOnlySpan<T> momentum, ReadOnlySpan<T> frozen,
        ReadOnlySpan<T> x, ReadOnlySpan<T> y, int hidden, Span<T> scratch, Span<T> loss, bool scalar = false)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Step<T, FusedUpdates.HeavyBall<T>>(weights, velocities, lr, momentum, default, frozen, x, y, hidden, scratch, loss, scalar);

    /// <summary>
    /// The same step with <paramref name="family"/>'s update in place of heavy ball's (<see cref="FusedFamily"/>): the
    /// forward, loss and gradient are shared; <paramref name="velocities"/> hold the family's one buffer and
    /// <paramref name="knobs"/> the numbers it derives from its knobs for each lane (<see cref="FusedUpdates.Derive"/>, in blocks of the lanes).
    /// </summary>
    public static void Step<T>(FusedFamily family, Span<T> weights, Span<T> velocities, ReadOnlySpan<T> lr, ReadOnlySpan<T> momentum, ReadOnlySpan<T> knobs,
        ReadOnlySpan<T> frozen, ReadOnlySpan<T> x, ReadOnlySpan<T> y, int hidden, Span<T> scratch, Span<T> loss, bool scalar = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (family)
        {
            case FusedFamily.HeavyBall or FusedFamily.Ema: Step<T, FusedUpdates.HeavyBall<T>>(weights, velocities, lr, momentum, knobs, frozen, x, y, hidden, scratch, loss, scalar); break;
            case FusedFamily.Nesterov: Step<T, FusedUpdates.Nesterov<T>>(weights, velocities, lr, momentum, knobs, frozen, x, y, hidden, scratch, loss, scalar); break;
            case FusedFamily.Qhm: Step<T, FusedUpdates.Qhm<T>>(weights, velocities, lr, momentum, knobs, frozen, x, y, hidden, scratch, loss, scalar); break;
            case FusedFamily.ScheduleFree: Step<T, FusedUpdates.ScheduleFree<T>>(weights, velocities, lr, momentum, knobs, frozen, x, y, hidden, scratch, loss, scalar); break;
            case FusedFamily.AggMo: Step<T, FusedUpdates.AggMo<T>>(weights, velocities, lr, momentum, knobs, frozen, x, y, hidden, scratch, loss, scalar); break;
            case FusedFamily.AccSgd: Step<T, FusedUpdates.AccSgd<T>>(weights, velocities, lr, momentum, knobs, frozen, x, y, hidden, scratch, loss, scalar); break;
            case FusedFamily.Lion: Step<T, FusedUpdates.Lion<T>>(weights, velocities, lr, momentum, knobs, frozen, x, y, hidden, scratch, loss, scalar); break;
            default: throw new ArgumentOutOfRangeException(nameof(family), family, "not a family the fused kernel runs");
        }
    }

    private static void Step<T, F>(Span<T> weights, Span<T> velocities, ReadOnlySpan<T> lr, ReadOnlySpan<T> momentum, ReadOnlySpan<T> knobs, ReadOnlySpan<T> frozen,
        ReadOnlySpan<T> x, ReadOnlySpan<T> y, int hidden, Span<T> scratch, Span<T> loss, bool scalar)
        where T : unmanaged, IFloatingPointIeee754<T> where F : struct, IFusedUpdate<T>
    {
        if (knobs.Length < F.Knobs * Lanes<T>())
            throw new ArgumentException($"knobs must hold at least {F.Knobs * Lanes<T>()} numbers for this family ({F.Knobs} blocks of {Lanes<T>()} lanes; got {knobs.Length})", nameof(knobs));
        long state = (long)F.States * Model.Net.ParameterCount(hidden) * Lanes<T>();
        if (velocities.Length < state)
            throw new ArgumentException($"velocities must hold at least {state} numbers for this family ({F.States} buffer(s) of (3 x {hidden} + 1) x {Lanes<T>()}; got {velocities.Length})", nameof(velocities));
        if (VectorPathRuns && !scalar) StepVector<T, F>(weights, velocities, lr, momentum, knobs, frozen, x, y, hidden, scratch, loss);
        else for (int lane = 0; lane < Lanes<T>(); lane++) StepScalar<T, F>(weights, velocities, lr, momentum, knobs, frozen, x, y, hidden, scratch, loss, lane);
    }

    // Optimized from the first call: a sweep's steps are microseconds, and tier-0 code of generic vector methods runs
    // tens of times slower until tiering replaces it (measured: 0.7 s of a 1-second default sweep).
    // Four samples (forward) and four units (backward) go at once: each keeps its own sum in its own order, so the bits
    // are those of one at a time, but the four chains of FMAs overlap instead of each waiting for the last (an FMA's
    // result takes four cycles; one chain at a time ran at a quarter of the core's rate). Indexing is by reference:
    // the spans' lengths are checked once here, not at every load.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StepVector<T, F>(Span<T> weights, Span<T> velocities, ReadOnlySpan<T> lr, ReadOnlySpan<T> momentum, ReadOnlySpan<T> knobs, ReadOnlySpan<T> frozen,
        ReadOnlySpan<T> x, ReadOnlySpan<T> y, int hidden, Span<T> scratch, Span<T> loss)
        where T : unmanaged, IFloatingPointIeee754<T> where F : struct, IFusedUpdate<T>
    {
        int h = hidden, n = x.Length, lanes = Lanes<T>();
        if (weights.Length < (long)Model.Net.ParameterCount(h) * lanes || velocities.Length < weights.Length || scratch.Length < ScratchLength<T>(h, n) || y.Length < n
            || lr.Length < lanes || momentum.Length < lanes || frozen.Length < lanes || loss.Length < lanes)
            throw new ArgumentException("a span is shorter than the group's layout needs");
        ref var p = ref As(weights);
        ref var v = ref As(velocities);
        ref var xs = ref As(scratch);                 // each sample's x, broadcast
        ref var rs = ref Unsafe.Add(ref xs, n);       // each sample's dloss/dout, r = 2 e / B
        ref var zs = ref Unsafe.Add(ref xs, 2 * n);   // each sample's a_j = relu(z_j) at [b * h + j], kept for the backward
        ref var w1 = ref p;
        ref var b1 = ref Unsafe.Add(ref p, h);
        ref var w2 = ref Unsafe.Add(ref p, 2 * h);
        ref var b2 = ref Unsafe.Add(ref p, 3 * h);
        var zero = Vector256<T>.Zero;
        var sum = zero;
        var g0 = zero;
        var twoOverB = Vector256.Create(T.CreateTruncating(2) / T.CreateTruncating(n));
        // The forward: each sample's z, output, loss and r.
        int b = 0;
        for (; b + 4 <= n; b += 4)
        {
            Vector256<T> x0 = Vector256.Create(x[b]), x1 = Vector256.Create(x[b + 1]), x2 = Vector256.Create(x[b + 2]), x3 = Vector256.Create(x[b + 3]);
            Unsafe.Add(ref xs, b) = x0;
            Unsafe.Add(ref xs, b + 1) = x1;
            Unsafe.Add(ref xs, b + 2) = x2;
            Unsafe.Add(ref xs, b + 3) = x3;
            Vector256<T> o0 = b2, o1 = b2, o2 = b2, o3 = b2;
            ref var z0 = ref Unsafe.Add(ref zs, b * h);
            for (int j = 0; j < h; j++)
            {
                Vector256<T> a = Unsafe.Add(ref w1, j), c = Unsafe.Add(ref b1, j), w = Unsafe.Add(ref w2, j);
                var z = Activation(a, x0, c);
                Unsafe.Add(ref z0, j) = z;
                o0 = Fma(w, z, o0);
                z = Activation(a, x1, c);
                Unsafe.Add(ref z0, h + j) = z;
                o1 = Fma(w, z, o1);
                z = Activation(a, x2, c);
                Unsafe.Add(ref z0, 2 * h + j) = z;
                o2 = Fma(w, z, o2);
                z = Activation(a, x3, c);
                Unsafe.Add(ref z0, 3 * h + j) = z;
                o3 = Fma(w, z, o3);
            }
            Residual(o0, y[b], twoOverB, ref sum, ref g0, ref Unsafe.Add(ref rs, b));
            Residual(o1, y[b + 1], twoOverB, ref sum, ref g0, ref Unsafe.Add(ref rs, b + 1));
            Residual(o2, y[b + 2], twoOverB, ref sum, ref g0, ref Unsafe.Add(ref rs, b + 2));
            Residual(o3, y[b + 3], twoOverB, ref sum, ref g0, ref Unsafe.Add(ref rs, b + 3));
        }
        for (; b < n; b++)
        {
            var xb = Vector256.Create(x[b]);
            Unsafe.Add(ref xs, b) = xb;
            var output = b2;
            ref var zb = ref Unsafe.Add(ref zs, b * h);
            for (int j = 0; j < h; j++)
            {
                var z = Activation(Unsafe.Add(ref w1, j), xb, Unsafe.Add(ref b1, j));
                Unsafe.Add(ref zb, j) = z;
                output = Fma(Unsafe.Add(ref w2, j), z, output);
            }
            Residual(output, y[b], twoOverB, ref sum, ref g0, ref Unsafe.Add(ref rs, b));
        }
        As(loss) = sum / Vector256.Create(T.CreateTruncating(n));
        // The backward: each unit's three sums over the samples in registers, then its step (w2 read before its own update).
        int k = 0;
        for (; k + 4 <= h; k += 4)
        {
            Vector256<T> s10 = zero, s20 = zero, g20 = zero, s11 = zero, s21 = zero, g21 = zero;
            Vector256<T> s12 = zero, s22 = zero, g22 = zero, s13 = zero, s23 = zero, g23 = zero;
            ref var zk = ref Unsafe.Add(ref zs, k);
            for (int i = 0; i < n; i++)
            {
                Vector256<T> r = Unsafe.Add(ref rs, i), xi = Unsafe.Add(ref xs, i);
                ref var zi = ref Unsafe.Add(ref zk, i * h);
                Accumulate(Unsafe.Add(ref zi, 0), r, xi, ref s10, ref s20, ref g20);
                Accumulate(Unsafe.Add(ref zi, 1), r, xi, ref s11, ref s21, ref g21);
                Accumulate(Unsafe.Add(ref zi, 2), r, xi, ref s12, ref s22, ref g22);
                Accumulate(Unsafe.Add(ref zi, 3), r, xi, ref s13, ref s23, ref g23);
            }
            UpdateUnit<T, F>(ref p, ref v, h, k, s10, s20, g20, lr, momentum, knobs, frozen);
            UpdateUnit<T, F>(ref p, ref v, h, k + 1, s11, s21, g21, lr, momentum, knobs, frozen);
            UpdateUnit<T, F>(ref p, ref v, h, k + 2, s12, s22, g22, lr, momentum, knobs, frozen);
            UpdateUnit<T, F>(ref p, ref v, h, k + 3, s13, s23, g23, lr, momentum, knobs, frozen);
        }
        for (; k < h; k++)
        {
            Vector256<T> s1 = zero, s2 = zero, g2 = zero;
            for (int i = 0; i < n; i++) Accumulate(Unsafe.Add(ref zs, i * h + k), Unsafe.Add(ref rs, i), Unsafe.Add(ref xs, i), ref s1, ref s2, ref g2);
            UpdateUnit<T, F>(ref p, ref v, h, k, s1, s2, g2, lr, momentum, knobs, frozen);
        }
        Update<T, F>(ref b2, ref Unsafe.Add(ref v, 3 * h), 3 * h + 1, g0, lr, momentum, knobs, frozen);
    }

    /// <summary>A sample's error e = out - y: its square into the loss's sum, r = e * (2 / B) kept, and r into db2's sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Residual<T>(Vector256<T> output, T y, Vector256<T> twoOverB, ref Vector256<T> sum, ref Vector256<T> g0, ref Vector256<T> r)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var e = output - Vector256.Create(y);
        sum = Fma(e, e, sum);
        r = e * twoOverB;
        g0 += r;
    }

    /// <summary>One sample's share of one unit's sums, from its kept a = relu(z): S1 += [a > 0] r;  S2 = fma([a > 0] r, x, S2);  G2 = fma(r, a, G2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate<T>(Vector256<T> a, Vector256<T> r, Vector256<T> x, ref Vector256<T> s1, ref Vector256<T> s2, ref Vector256<T> g2)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var zero = Vector256<T>.Zero;
        var mr = Vector256.GreaterThan(a, zero) & r;
        s1 += mr;
        s2 = Fma(mr, x, s2);
        g2 = Fma(r, a, g2);
    }

    /// <summary>Unit j's step from its sums: dw1_j = w2_j S2, db1_j = w2_j S1, dw2_j = G2 (w2_j read before its own update).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateUnit<T, F>(ref Vector256<T> p, ref Vector256<T> v, int h, int j, Vector256<T> s1, Vector256<T> s2, Vector256<T> g2,
        ReadOnlySpan<T> rate, ReadOnlySpan<T> m, ReadOnlySpan<T> knobs, ReadOnlySpan<T> frozen)
        where T : unmanaged, IFloatingPointIeee754<T> where F : struct, IFusedUpdate<T>
    {
        var w = Unsafe.Add(ref p, 2 * h + j);
        nint stride = 3 * h + 1; // a family's next buffer: a whole net's worth of vectors on
        Update<T, F>(ref Unsafe.Add(ref p, j), ref Unsafe.Add(ref v, j), stride, w * s2, rate, m, knobs, frozen);
        Update<T, F>(ref Unsafe.Add(ref p, h + j), ref Unsafe.Add(ref v, h + j), stride, w * s1, rate, m, knobs, frozen);
        Update<T, F>(ref Unsafe.Add(ref p, 2 * h + j), ref Unsafe.Add(ref v, 2 * h + j), stride, g2, rate, m, knobs, frozen);
    }

    /// <summary>The first vector of a span of T (its length checked by the caller).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref Vector256<T> As<T>(Span<T> span) where T : unmanaged =>
        ref Unsafe.As<T, Vector256<T>>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(span));

    /// <summary>
    /// The family's step for a vector of cells (heavy ball's: <see cref="Optimizers.MomentumUpdate"/>'s vector form), g
    /// taken as 0 in a frozen lane (g and not the mask). lr, m, the derived numbers and the mask are loaded where used, each time,
    /// so that the backward's loop need not hold them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update<T, F>(ref Vector256<T> param, ref Vector256<T> velocity, nint stride, Vector256<T> gradient, ReadOnlySpan<T> rate, ReadOnlySpan<T> m,
        ReadOnlySpan<T> knobs, ReadOnlySpan<T> frozen)
        where T : unmanaged, IFloatingPointIeee754<T> where F : struct, IFusedUpdate<T>
    {
        F.Vector(ref param, ref velocity, stride, Vector256.AndNot(gradient, Vector256.Create(frozen)), rate, m, knobs);
    }

    /// <summary>The same step for one lane, in scalars: the same operations in the same order, each FMA rounding once, the relu as maxps takes it (z > 0 ? z : 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StepScalar<T, F>(Span<T> weights, Span<T> velocities, ReadOnlySpan<T> lr, ReadOnlySpan<T> momentum, ReadOnlySpan<T> knobs, ReadOnlySpan<T> frozen,
        ReadOnlySpan<T> x, ReadOnlySpan<T> y, int hidden, Span<T> scratch, Span<T> loss, int lane)
        where T : unmanaged, IFloatingPointIeee754<T> where F : struct, IFusedUpdate<T>
    {
        int h = hidden, n = x.Length, L = Lanes<T>();
        var rs = scratch[..n];
        T zero = T.Zero, sum = zero, g0 = zero, twoOverB = T.CreateTruncating(2) / T.CreateTruncating(n), b2 = weights[3 * h * L + lane];
        for (int b = 0; b < n; b++)
        {
            T xb = x[b], output = b2;
            for (int j = 0; j < h; j++)
            {
                T z = Activation(weights[j * L + lane], xb, weights[(h + j) * L + lane]);
                output = T.FusedMultiplyAdd(weights[(2 * h + j) * L + lane], z, output);
            }
            T e = output - y[b];
            sum = T.FusedMultiplyAdd(e, e, sum);
            T r = e * twoOverB;
            rs[b] = r;
            g0 += r;
        }
        loss[lane] = sum / T.CreateTruncating(n);
        bool ice = frozen[lane] != zero; // all bits set: a NaN, which is not zero
        T rate = lr[lane], m = momentum[lane];
        for (int j = 0; j < h; j++)
        {
            T a = weights[j * L + lane], c = weights[(h + j) * L + lane], s1 = zero, s2 = zero, g2 = zero;
            for (int b = 0; b < n; b++)
            {
                T z = Activation(a, x[b], c);
                T mr = z > zero ? rs[b] : zero;
                s1 += mr;
                s2 = T.FusedMultiplyAdd(mr, x[b], s2);
                g2 = T.FusedMultiplyAdd(rs[b], z, g2);
            }
            T w = weights[(2 * h + j) * L + lane];
            Update<T, F>(weights, velocities, j * L + lane, (3 * h + 1) * L, w * s2, rate, m, knobs, lane, ice);
            Update<T, F>(weights, velocities, (h + j) * L + lane, (3 * h + 1) * L, w * s1, rate, m, knobs, lane, ice);
            Update<T, F>(weights, velocities, (2 * h + j) * L + lane, (3 * h + 1) * L, g2, rate, m, knobs, lane, ice);
        }
        Update<T, F>(weights, velocities, 3 * h * L + lane, (3 * h + 1) * L, g0, rate, m, knobs, lane, ice);
    }

    /// <summary>The family's step for one number (heavy ball's: <see cref="Optimizers.MomentumUpdate"/>'s scalar form), g taken as 0 in a frozen cell.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update<T, F>(Span<T> weights, Span<T> velocities, int at, nint stride, T gradient, T rate, T m, ReadOnlySpan<T> knobs, int lane, bool frozen)
        where T : unmanaged, IFloatingPointIeee754<T> where F : struct, IFusedUpdate<T>
    {
        F.Scalar(ref weights[at], ref velocities[at], stride, frozen ? T.Zero : gradient, rate, m, knobs, lane, Lanes<T>());
    }
}
