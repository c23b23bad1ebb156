using static TorchSharp.torch;

namespace TorchMomentum.Verification;

/// <summary>
/// How far one step of the chapter form (<c>v = momentum*v + lr*g; p = p - v</c>, section 5.5.1) may land from
/// one step of PyTorch's form (<c>b = momentum*b + g; p = p - lr*b</c>) when both start from the same
/// parameters and take the same gradient: a bound from the floating-point arithmetic alone, which holds for
/// every seed and every number of steps because it follows the run's own magnitudes step by step.
/// </summary>
/// <remarks>
/// <para>
/// Why per step: two nets trained apart do not stay within any bound that rounding alone gives. A difference of
/// one rounding changes the next gradient, and training a non-convex net can amplify it (measured: 1.2e-7 after
/// 384 steps, 2.9e-3 after 32,000, float32, momentum 0.9). So <see cref="OptimizerVerifier"/> starts each chapter
/// step from SGD's parameters and lets only the velocity run free; a velocity that forgot, doubled or misweighted
/// anything still accumulates into a difference far above this bound.
/// </para>
/// <para>
/// The derivation. IEEE arithmetic in the dtype rounds each operation as fl(x op y) = (x op y)(1 + d), |d| &lt;= u
/// (u = 2^-24 for float32, 2^-53 for float64), plus at most eta/2 near underflow (eta the smallest subnormal).
/// m and lr are the dtype's values of momentum and lr, which both optimizers use. A product of n factors
/// (1 + d_i) is 1 + theta with |theta| &lt;= gamma_n = n*u / (1 - n*u). Per element, with e = v - lr*b the exact
/// difference of the stored velocity and lr times the stored buffer:
/// <code>
///   ours:   v  = fl(fl(m*v') + fl(lr*g))  = m*v'(1 + theta2) + lr*g(1 + theta2)
///   SGD's:  b  = fl(fl(m*b') + g)          = m*b'(1 + theta2) + g(1 + d)          (first step: b = g, v = fl(lr*g))
///   so      |e| &lt;= m(1 + gamma2)|e'| + 2*gamma2*(m|v'| + lr|g|)                    (using lr|b'| &lt;= |v'| + |e'|)
/// </code>
/// Taking maxima over all elements, E_t = m(1 + gamma2) E_(t-1) + 2 gamma2 (m V_(t-1) + lr G_t) bounds |e| at step t
/// (V = max|v|, G = max|g|): a geometric sum in m &lt; 1, so it does not grow with the number of steps. Then
/// <code>
///   ours:   p = fl(p' - v);   SGD's: q = fl(p' - fl(lr*b)) (or one rounding, fused)
///   |p - q| &lt;= |e| + u*lr|b| + gamma1(|p| + |q|) &lt;= (1 + u)|e| + u|v| + 2 gamma1 P      (P = max |p|, |q|)
///   measured buffer difference |fl(v - fl(lr*b))| &lt;= (1 + u)((1 + u)|e| + u|v|)
/// </code>
/// and the measured parameter difference, one more subtraction, is within (1 + u) of |p - q|. The bound is
/// computed in double; its own rounding is a relative 2^-53, immaterial next to these terms.
/// </para>
/// </remarks>
public sealed class ChapterRoundingBound
{
    private readonly double u, eta, gamma1, gamma2, momentum, lr;
    private double velocityError, previousVelocity;

    /// <summary>A bound for a run in <paramref name="dtype"/> with these hyperparameters, constant throughout.</summary>
    /// <param name="dtype">Float32 or Float64, the dtype of parameters, gradients and state.</param>
    /// <param name="momentum">Momentum factor, in [0, 1).</param>
    /// <param name="lr">Learning rate.</param>
    public ChapterRoundingBound(ScalarType dtype, double momentum, double lr)
    {
        bool single = dtype switch
        {
            ScalarType.Float32 => true,
            ScalarType.Float64 => false,
            _ => throw new ArgumentException($"dtype must be Float32 or Float64 (got {dtype})", nameof(dtype)),
        };
        u = single ? Math.ScaleB(1, -24) : Math.ScaleB(1, -53);
        eta = single ? float.Epsilon : double.Epsilon;
        gamma1 = u / (1 - u);
        gamma2 = 2 * u / (1 - 2 * u);
        this.momentum = single ? (float)momentum : momentum;
        this.lr = single ? (float)lr : lr;
    }

    /// <summary>The bound on |parameter difference| for the step last given to <see cref="Step"/>.</summary>
    public double Parameter { get; private set; }

    /// <summary>The bound on |v - lr*b|, as the verifier measures it, for the step last given to <see cref="Step"/>.</summary>
    public double Buffer { get; private set; }

    /// <summary>Advances the bound by one step, from that step's magnitudes (largest absolute values over all elements).</summary>
    /// <param name="gradient">max |g| of the step's gradient.</param>
    /// <param name="velocity">max |v| of our velocity after the step.</param>
    /// <param name="parameter">max |p| of both nets' parameters after the step.</param>
    public void Step(double gradient, double velocity, double parameter)
    {
        // E_t = m(1 + gamma2) E_(t-1) + 2 gamma2 (m V_(t-1) + lr G_t); near underflow eta/2 more for each of our 3
        // roundings and lr*eta/2 for each of SGD's 2.
        velocityError = momentum * (1 + gamma2) * velocityError + 2 * gamma2 * (momentum * previousVelocity + lr * gradient) + (1.5 + lr) * eta;
        previousVelocity = velocity;
        Buffer = (1 + u) * ((1 + u) * velocityError + u * velocity + eta);
        Parameter = (1 + u) * ((1 + u) * velocityError + u * velocity + 2 * gamma1 * parameter + 2 * eta);
    }
}
