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
    /// <summary>
    /// Heavy ball (the chapter's step) with an exponential average of its weights, judged at the average (train's
    /// <c>ema</c>, <see cref="Optimizers.AveragedModel"/>): after each step a = decay a + (1 - decay) p, the first a copy
    /// of p. Its knob beyond lr and momentum: decay. The kernel steps it as heavy ball; its chunk keeps the average.
    /// </summary>
    Ema,
    /// <summary>
    /// AccSGD without weight decay (<see cref="Optimizers.AccSgd"/>): w = B((1/B - 1) w - L g + p); p = zeta (p - lr g) +
    /// (1 - zeta) w, with L = lr kappa / c, B = c^2 xi / kappa and zeta = c / (c + B); w starts as a copy of p. Its knobs:
    /// kappa, xi and c (the cell's momentum is not read).
    /// </summary>
    AccSgd,
    /// <summary>
    /// Aggregated momentum with three buffers (<see cref="Optimizers.AggMo"/>): for each beta_i in turn, v_i = beta_i v_i +
    /// g; p = p - (lr / 3) v_i. Its knobs: the three betas (the cell's momentum is not read).
    /// </summary>
    AggMo,
    /// <summary>
    /// Schedule-free SGD without weight decay (<see cref="Optimizers.ScheduleFreeSgd"/>), trained at y and judged at x:
    /// z = z - lr_k g; x = (1 - c) x + c z; y = beta x + (1 - beta) z, the weights y; z and x start as the weights. Its
    /// knobs: warmup_steps, r and weight_lr_power (the cell's momentum is its beta); lr_k and c follow its schedule step
    /// by step (<see cref="Optimizers.ScheduleFreeSgd.Schedule"/>), worked out by its chunk before each step.
    /// </summary>
    ScheduleFree,
    /// <summary>Lion without weight decay (<see cref="Optimizers.Lion"/>): p = p - lr sign(beta1 m + (1 - beta1) g); m = beta2 m + (1 - beta2) g. Its knob beyond lr and beta1: beta2.</summary>
    Lion,
}

/// <summary>
/// One family's step for one parameter of a group of cells, in the fused kernel's two forms side by side: a cell per
/// lane of a vector, and one lane in scalars, the same operations in the same order (so the two paths give the same
/// bits). Each lane has its own lr and momentum (the family's beta or beta1), and the numbers the family derives from
/// its knobs (<see cref="FusedUpdates.Derive"/>: 1 - beta, lr nu, ...), worked out once in float64 as its reference
/// works them out, each a block of a vector's lanes in <c>knobs</c>. The kernel passes them as spans read where used,
/// so that no constant or knob is held beside the backward's sums (issue 39: a held vector spilled a sum every sample).
/// The state is the one buffer each of these families keeps (heavy ball's velocity, the momentum buffers, Lion's
/// average), starting at 0. A frozen lane's gradient arrives as 0 and its lr, and every step size derived from it, as 0.
/// </summary>
internal interface IFusedUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>How many blocks of derived numbers the step reads.</summary>
    static abstract int Knobs { get; }

    /// <summary>How many buffers of state it keeps per parameter, each a whole group's net of numbers after the last.</summary>
    static virtual int States => 1;

    /// <summary>The step for a vector of cells; a family with several buffers finds buffer i at <paramref name="stride"/> i vectors past <paramref name="state"/>.</summary>
    static abstract void Vector(ref Vector256<T> p, ref Vector256<T> state, nint stride, Vector256<T> g, ReadOnlySpan<T> lr, ReadOnlySpan<T> momentum, ReadOnlySpan<T> knobs);

    /// <summary>The step for one cell, lane <paramref name="lane"/> of <paramref name="knobs"/>' blocks of <paramref name="lanes"/>; buffer i at <paramref name="stride"/> i numbers past <paramref name="state"/>.</summary>
    static abstract void Scalar(ref T p, ref T state, nint stride, T g, T lr, T momentum, ReadOnlySpan<T> knobs, int lane, int lanes);
}

/// <summary>The family's steps (<see cref="FusedFamily"/>), each a struct so that the JIT compiles the kernel once for each, and the numbers each derives from its knobs.</summary>
public static class FusedUpdates
{
    /// <summary>How many knobs beyond lr and momentum a cell of <paramref name="family"/> has: QHM's nu, Lion's beta2, the EMA's decay; AccSGD's kappa, xi and c; AggMo's three betas; schedule-free's warm-up steps, r and weight_lr_power.</summary>
    public static int KnobsOf(FusedFamily family) => family switch
    {
        FusedFamily.Qhm or FusedFamily.Lion or FusedFamily.Ema => 1,
        FusedFamily.AccSgd or FusedFamily.AggMo or FusedFamily.ScheduleFree => 3,
        _ => 0,
    };

    /// <summary>How many buffers of state <paramref name="family"/> keeps per parameter: AggMo's three, one for the others.</summary>
    public static int States(FusedFamily family) => family switch
    {
        FusedFamily.AggMo => AggMo<double>.States,
        FusedFamily.ScheduleFree => ScheduleFree<double>.States,
        _ => 1,
    };

    /// <summary>How many blocks of derived numbers <paramref name="family"/>'s step reads (each update's own count; the EMA's two are its chunk's average's).</summary>
    public static int Knobs(FusedFamily family) => family switch
    {
        FusedFamily.Qhm => Qhm<double>.Knobs,
        FusedFamily.Lion => Lion<double>.Knobs,
        FusedFamily.AccSgd => AccSgd<double>.Knobs,
        FusedFamily.AggMo => AggMo<double>.Knobs,
        FusedFamily.ScheduleFree => ScheduleFree<double>.Knobs,
        FusedFamily.Ema => 2,
        _ => 0,
    };

    /// <summary>
    /// The numbers <paramref name="family"/>'s step reads for one cell, in float64, from its lr, momentum and other knobs
    /// (QHM's nu, Lion's beta2, the EMA's decay; AccSGD's kappa, xi and c): QHM 1 - beta, lr nu, lr (1 - nu); Lion
    /// 1 - beta1, beta2, 1 - beta2; the EMA decay and 1 - decay (read by its chunk's average, not the kernel); AccSGD
    /// 1/B - 1, L, B, zeta and 1 - zeta, as its reference works them out. A frozen cell's are
    /// those of lr 0 and momentum 0.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="knobs"/> or <paramref name="into"/> is not as long as the family needs.</exception>
    public static void Derive(FusedFamily family, double lr, double momentum, ReadOnlySpan<double> knobs, Span<double> into)
    {
        int wanted = KnobsOf(family);
        if (knobs.Length != wanted) throw new ArgumentException($"knobs must hold {wanted} number(s) for {family} (got {knobs.Length})", nameof(knobs));
        if (into.Length < Knobs(family)) throw new ArgumentException($"into must hold at least {Knobs(family)} numbers for {family} (got {into.Length})", nameof(into));
        double knob = knobs.IsEmpty ? 0 : knobs[0];
        switch (family)
        {
            case FusedFamily.Qhm: (into[0], into[1], into[2]) = (1 - momentum, lr * knob, lr * (1 - knob)); break;
            case FusedFamily.Lion: (into[0], into[1], into[2]) = (1 - momentum, knob, 1 - knob); break;
            case FusedFamily.Ema: (into[0], into[1]) = (knob, 1 - knob); break;
            case FusedFamily.AggMo: (into[0], into[1], into[2], into[3]) = (lr / 3, knobs[0], knobs[1], knobs[2]); break;
            // Before the first step; its chunk works lr_k and c out again before each (ScheduleFree's Step).
            case FusedFamily.ScheduleFree: (into[0], into[1], into[2], into[3], into[4]) = (lr, 1, 0, momentum, 1 - momentum); break;
            case FusedFamily.AccSgd:
            {
                double kappa = knobs[0], xi = knobs[1], c = knobs[2];
                double b = 1.0 - (1.0 - c * c * xi / kappa), zeta = c / (c + b);
                (into[0], into[1], into[2], into[3], into[4]) = (1.0 / b - 1.0, lr * kappa / c, b, zeta, 1.0 - zeta);
                break;
            }
        }
    }

    /// <summary>Block <paramref name="block"/> of a group's derived numbers as a vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Block<T>(ReadOnlySpan<T> knobs, int block) where T : unmanaged => Vector256.Create(knobs.Slice(block * Vector256<T>.Count));

    /// <summary><see cref="FusedFamily.HeavyBall"/>: <see cref="MomentumUpdate"/>'s chapter step, as the sweep has always taken it.</summary>
    internal struct HeavyBall<T> : IFusedUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static int Knobs => 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Vector(ref Vector256<T> p, ref Vector256<T> v, nint stride, Vector256<T> g, ReadOnlySpan<T> lr, ReadOnlySpan<T> m, ReadOnlySpan<T> knobs) =>
            MomentumUpdate.Chapter(ref p, ref v, g, Vector256.Create(m), Vector256.Create(lr));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scalar(ref T p, ref T v, nint stride, T g, T lr, T m, ReadOnlySpan<T> knobs, int lane, int lanes) => MomentumUpdate.Chapter(ref p, ref v, g, m, lr);
    }

    /// <summary><see cref="FusedFamily.Nesterov"/>, as torch.optim.SGD(nesterov=True) orders it: b = b m + g; p = p - lr (g + m b).</summary>
    internal struct Nesterov<T> : IFusedUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static int Knobs => 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Vector(ref Vector256<T> p, ref Vector256<T> b, nint stride, Vector256<T> g, ReadOnlySpan<T> lr, ReadOnlySpan<T> m, ReadOnlySpan<T> knobs)
        {
            var momentum = Vector256.Create(m);
            b = b * momentum + g;
            p -= Vector256.Create(lr) * (g + momentum * b);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scalar(ref T p, ref T b, nint stride, T g, T lr, T m, ReadOnlySpan<T> knobs, int lane, int lanes)
        {
            b = b * m + g;
            p -= lr * (g + m * b);
        }
    }

    /// <summary><see cref="FusedFamily.Qhm"/>, as <see cref="Optimizers.Qhm"/> orders it: b = b beta + (1 - beta) g; p = p - (lr nu) b; p = p - (lr (1 - nu)) g.</summary>
    internal struct Qhm<T> : IFusedUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static int Knobs => 3;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Vector(ref Vector256<T> p, ref Vector256<T> b, nint stride, Vector256<T> g, ReadOnlySpan<T> lr, ReadOnlySpan<T> beta, ReadOnlySpan<T> knobs)
        {
            b = b * Vector256.Create(beta) + Block(knobs, 0) * g;
            p -= Block(knobs, 1) * b;
            p -= Block(knobs, 2) * g;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scalar(ref T p, ref T b, nint stride, T g, T lr, T beta, ReadOnlySpan<T> knobs, int lane, int lanes)
        {
            b = b * beta + knobs[lane] * g;
            p -= knobs[lanes + lane] * b;
            p -= knobs[2 * lanes + lane] * g;
        }
    }

    /// <summary><see cref="FusedFamily.AccSgd"/>, as <see cref="Optimizers.AccSgd"/> orders it: w = w (1/B - 1); w = w - L g; w = w + p; w = w B; p = p - lr g; p = p zeta; p = p + (1 - zeta) w.</summary>
    internal struct AccSgd<T> : IFusedUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static int Knobs => 5;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Vector(ref Vector256<T> p, ref Vector256<T> w, nint stride, Vector256<T> g, ReadOnlySpan<T> lr, ReadOnlySpan<T> momentum, ReadOnlySpan<T> knobs)
        {
            w = (w * Block(knobs, 0) - Block(knobs, 1) * g + p) * Block(knobs, 2);
            p = (p - Vector256.Create(lr) * g) * Block(knobs, 3) + Block(knobs, 4) * w;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scalar(ref T p, ref T w, nint stride, T g, T lr, T momentum, ReadOnlySpan<T> knobs, int lane, int lanes)
        {
            w = (w * knobs[lane] - knobs[lanes + lane] * g + p) * knobs[2 * lanes + lane];
            p = (p - lr * g) * knobs[3 * lanes + lane] + knobs[4 * lanes + lane] * w;
        }
    }

    /// <summary><see cref="FusedFamily.AggMo"/>, as <see cref="Optimizers.AggMo"/> orders it: buffer by buffer, v_i = v_i beta_i + g; p = p - (lr / 3) v_i.</summary>
    internal struct AggMo<T> : IFusedUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static int Knobs => 4;

        public static int States => 3;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Vector(ref Vector256<T> p, ref Vector256<T> v, nint stride, Vector256<T> g, ReadOnlySpan<T> lr, ReadOnlySpan<T> momentum, ReadOnlySpan<T> knobs)
        {
            for (int i = 0; i < 3; i++)
            {
                ref var vi = ref Unsafe.Add(ref v, i * stride);
                vi = vi * Block(knobs, 1 + i) + g;
                p -= Block(knobs, 0) * vi;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scalar(ref T p, ref T v, nint stride, T g, T lr, T momentum, ReadOnlySpan<T> knobs, int lane, int lanes)
        {
            for (int i = 0; i < 3; i++)
            {
                ref var vi = ref Unsafe.Add(ref v, i * stride);
                vi = vi * knobs[(1 + i) * lanes + lane] + g;
                p -= knobs[lane] * vi;
            }
        }
    }

    /// <summary><see cref="FusedFamily.ScheduleFree"/>, as <see cref="Optimizers.ScheduleFreeSgd"/> orders it: z = z - lr_k g; x = x (1 - c) + c z; p = x beta + (1 - beta) z (its y).</summary>
    internal struct ScheduleFree<T> : IFusedUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static int Knobs => 5;

        public static int States => 2;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Vector(ref Vector256<T> p, ref Vector256<T> z, nint stride, Vector256<T> g, ReadOnlySpan<T> lr, ReadOnlySpan<T> momentum, ReadOnlySpan<T> knobs)
        {
            ref var x = ref Unsafe.Add(ref z, stride);
            z -= Block(knobs, 0) * g;
            x = x * Block(knobs, 1) + Block(knobs, 2) * z;
            p = x * Block(knobs, 3) + Block(knobs, 4) * z;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scalar(ref T p, ref T z, nint stride, T g, T lr, T momentum, ReadOnlySpan<T> knobs, int lane, int lanes)
        {
            ref var x = ref Unsafe.Add(ref z, stride);
            z -= knobs[lane] * g;
            x = x * knobs[lanes + lane] + knobs[2 * lanes + lane] * z;
            p = x * knobs[3 * lanes + lane] + knobs[4 * lanes + lane] * z;
        }
    }

    /// <summary><see cref="FusedFamily.Lion"/>, as <see cref="Optimizers.Lion"/> orders it: c = m beta1 + g (1 - beta1); p = p - lr sign(c); m = m beta2 + g (1 - beta2).</summary>
    internal struct Lion<T> : IFusedUpdate<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static int Knobs => 3;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Vector(ref Vector256<T> p, ref Vector256<T> m, nint stride, Vector256<T> g, ReadOnlySpan<T> lr, ReadOnlySpan<T> beta1, ReadOnlySpan<T> knobs)
        {
            var c = m * Vector256.Create(beta1) + g * Block(knobs, 0);
            // lr sign(c) as a select: lr, -lr or 0 (sign(0) = 0, as PyTorch's), each exact; p - lr sign(c) is then p + sign(c) (-lr).
            var rate = Vector256.Create(lr);
            p -= (Vector256.GreaterThan(c, Vector256<T>.Zero) & rate) - (Vector256.LessThan(c, Vector256<T>.Zero) & rate);
            m = m * Block(knobs, 1) + g * Block(knobs, 2);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scalar(ref T p, ref T m, nint stride, T g, T lr, T beta1, ReadOnlySpan<T> knobs, int lane, int lanes)
        {
            var c = m * beta1 + g * knobs[lane];
            p -= (c > T.Zero ? lr : T.Zero) - (c < T.Zero ? lr : T.Zero);
            m = m * knobs[lanes + lane] + g * knobs[2 * lanes + lane];
        }
    }
}
