using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace TorchMomentum.Model;

/// <summary>
/// The chapter's net (section 5.5.1, step 4: <c>predict(relu(hidden(x)))</c>, 1 -> hidden -> 1) as formulas, once,
/// with every form the project computes them in beside each other: one home for the net's math.
/// <code>
///   z_j = w1_j x + b1_j,   a_j = relu(z_j) = z_j > 0 ? z_j : 0,   f(x) = b2 + sum_j w2_j a_j         (the forward)
///   grad f:   df/dw1_j = w2_j m_j x,   df/db1_j = w2_j m_j,   df/dw2_j = a_j,   df/db2 = 1     (m_j = [z_j > 0])
///   loss over samples i = 1..N:   L = (1/N) sum_i e_i^2,  e_i = f(x_i) - y_i,   grad L = (1/N) sum_i 2 e_i grad f(x_i)
///   parameters: hidden.weight, hidden.bias, predict.weight (hidden each) and predict.bias, 3 hidden + 1 (Net.ParameterCount)
/// </code>
/// </summary>
/// <remarks>
/// The forms, each rounding as its callers need (a form's bits are pinned by the equality tests of its callers):
/// <list type="bullet">
/// <item>tensor, for autograd: <see cref="Output(Tensor, Tensor, Tensor, Tensor, Tensor)"/> (what <see cref="Net"/> runs);</item>
/// <item>vector, a cell per lane, each z and each w2 a product fused with its sum (<see cref="Activation{T}(Vector256{T}, Vector256{T}, Vector256{T})"/>,
/// <see cref="Fma{T}"/>): the forward of the sweep's fused kernel (FusedStep);</item>
/// <item>scalar with the same fused rounding (<see cref="Activation{T}(T, T, T)"/>): the kernel's scalar path, the same bits as a lane;</item>
/// <item>scalar in float64, each product rounded (<see cref="Output(ReadOnlySpan{double}, int, double)"/>, <see cref="OutputGradient"/>): an
/// average's batch loss in the sweep, and the per-example gradients of the gradient noise scale and of the exact Hessian;</item>
/// <item>piecewise, a straight line between the units' kinks: the full-data loss without a pass (<see cref="FullDataLoss"/>).</item>
/// </list>
/// The stacked tensor form of the sweep's torch engine (StackedNet) lays these out over cells, with
/// the backward written as tensor operations next to its forward, where its passes are counted.
/// </remarks>
public static class NetMath
{
    /// <summary>The forward in tensors, f = predict(relu(hidden(x))): x [batch, 1], w1 [hidden, 1], b1 [hidden], w2 [1, hidden], b2 [1].</summary>
    public static Tensor Output(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2)
    {
        using var activation = nn.functional.relu(nn.functional.linear(x, w1, b1));
        return nn.functional.linear(activation, w2, b2);
    }

    /// <summary>The output f(x) in float64, each product rounded: weights laid out as the net's parameters (hidden.weight, hidden.bias, predict.weight, predict.bias).</summary>
    public static double Output(ReadOnlySpan<double> parameters, int hidden, double x)
    {
        double f = parameters[3 * hidden];
        for (int j = 0; j < hidden; j++)
        {
            double z = parameters[j] * x + parameters[hidden + j];
            if (z > 0) f += parameters[2 * hidden + j] * z;
        }
        return f;
    }

    /// <summary>
    /// The output f(x) and, into <paramref name="gradient"/> (parameters long, in the net's order; zeros), grad f at x,
    /// in float64. A unit whose z is not above 0 (or is NaN) adds nothing and leaves its three entries as they were.
    /// </summary>
    public static double OutputGradient(NetWeights w, double x, Span<double> gradient)
    {
        int h = w.Hidden;
        double f = w.B2;
        for (int j = 0; j < h; j++)
        {
            double z = w.W1[j] * x + w.B1[j];
            if (!(z > 0)) continue;
            gradient[j] = w.W2[j] * x;
            gradient[h + j] = w.W2[j];
            gradient[2 * h + j] = z;
            f += w.W2[j] * z;
        }
        gradient[3 * h] = 1;
        return f;
    }

    /// <summary>
    /// One unit's activation for a vector of cells, a = relu(fma(w1, x, b1)): the relu a maxps (z &gt; 0 ? z : 0, its
    /// second operand when either is NaN), so a NaN or -0 becomes +0 as in the scalar form.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Activation<T>(Vector256<T> w1, Vector256<T> x, Vector256<T> b1) where T : unmanaged =>
        Vector256.MaxNative(Fma(w1, x, b1), Vector256<T>.Zero);

    /// <summary>One unit's activation for one cell, rounding as a lane of the vector form: z = fma(w1, x, b1) rounded once, then z &gt; 0 ? z : 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Activation<T>(T w1, T x, T b1) where T : IFloatingPointIeee754<T>
    {
        T z = T.FusedMultiplyAdd(w1, x, b1);
        return z > T.Zero ? z : T.Zero;
    }

    /// <summary>a * b + c rounded once, lane by lane (the vector form's products and sums; float or double).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Fma<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Vector256.FusedMultiplyAdd(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.FusedMultiplyAdd(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();
        throw new NotSupportedException($"{typeof(T)} is not float or double");
    }
}
