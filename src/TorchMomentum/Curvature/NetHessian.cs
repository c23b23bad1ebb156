using TorchMomentum.Model;
using static TorchSharp.torch;

namespace TorchMomentum.Curvature;

/// <summary>
/// The exact Hessian of the chapter's loss, the mean squared error of <c>predict(relu(hidden(x)))</c> over a set of
/// samples, with respect to the net's 3 hidden + 1 parameters, in float64: what section 5.2's condition
/// lr * lambda_max &lt; 2 (heavy ball: 2(1 + momentum)) is about, computed on the net itself.
/// </summary>
/// <remarks>
/// With f_i = f(x_i), e_i = f_i - y_i and L = (1/N) sum_i e_i^2 (section 5.5.1's MSELoss; the net's formulas are
/// <see cref="NetMath"/>'s, g_i = grad f_i its <see cref="NetMath.OutputGradient"/>):
/// <code>
///   H = (2/N) sum_i ( g_i g_i' + e_i S_i ),   g_i = grad f_i,   S_i = Hessian of f_i
///   S_i: d2/(dw1_j dw2_j) = m_ij x_i,  d2/(db1_j dw2_j) = m_ij,  all else 0     (m_ij = [w1_j x_i + b1_j > 0])
/// </code>
/// The relu's second derivative is 0 wherever it exists, as autograd takes it, so this is what autograd's double
/// backward computes (CurvatureTests.The_hessian_is_autograds_double_backward_to_1e_12 holds it to that). The Gauss-Newton part G'G is one matrix product
/// of the per-sample gradients (libtorch's); the rest touches 2 x hidden pairs.
/// </remarks>
public static class NetHessian
{
    /// <summary>
    /// Most parameters a Hessian may have here: 4,097 x 4,097 float64 is 134 MB (hidden 1,365), and about three times
    /// that while its eigenvalues are taken (<see cref="Bytes"/>).
    /// </summary>
    public const int MaxParameters = 4097;

    /// <summary>Most numbers the per-sample gradients may have (samples x parameters): they are read as one span of bytes, at most int.MaxValue.</summary>
    public const long MaxGradientNumbers = int.MaxValue / sizeof(double);

    /// <summary>
    /// Bytes the Hessian of a net of <paramref name="hidden"/> units takes at its peak, p = 3 hidden + 1 parameters: the
    /// per-sample gradients for <paramref name="samples"/> samples (samples x p), and three p x p matrices, the Hessian
    /// itself and, while its eigenvalues are taken, the eigen-solver's copy of it and its workspace.
    /// </summary>
    public static long Bytes(int hidden, long samples)
    {
        long p = Net.ParameterCount(hidden);
        return 8 * (3 * p * p + samples * p);
    }

    /// <summary>The Hessian of the MSE over samples (<paramref name="x"/>, <paramref name="y"/>), [parameters, parameters], float64 on the CPU.</summary>
    public static Tensor Of(NetWeights w, ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int h = w.Hidden, p = w.Count, n = x.Length;
        using var scope = NewDisposeScope();
        // The per-sample gradients are written straight into libtorch's memory: a managed copy would be a large-object
        // allocation per Hessian, and the explore page takes dozens a training (each a gen-2 collection).
        var gradients = zeros([n, p], ScalarType.Float64);
        var e = new double[n];
        OutputGradients(w, x, y, Devices.HostValues.Doubles(gradients), e);
        var cross = new double[2 * h]; // sum_i e_i m_ij x_i and sum_i e_i m_ij
        for (int i = 0; i < n; i++)
            for (int j = 0; j < h; j++)
            {
                if (!(w.W1[j] * x[i] + w.B1[j] > 0)) continue;
                cross[j] += e[i] * x[i];
                cross[h + j] += e[i];
            }
        var hessian = gradients.t().mm(gradients).mul_(2.0 / n);
        var values = Devices.HostValues.Doubles(hessian);
        for (int j = 0; j < h; j++)
        {
            double dw1 = 2.0 / n * cross[j], db1 = 2.0 / n * cross[h + j];
            values[j * p + 2 * h + j] += dw1;
            values[(2 * h + j) * p + j] += dw1;
            values[(h + j) * p + 2 * h + j] += db1;
            values[(2 * h + j) * p + h + j] += db1;
        }
        return hessian.MoveToOuterDisposeScope();
    }

    /// <summary>Each sample's gradient of its own squared error, 2 e_i grad f_i: [samples, parameters], float64 on the CPU.</summary>
    public static Tensor PerSampleLossGradients(NetWeights w, ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int p = w.Count;
        var gradients = zeros([x.Length, p], ScalarType.Float64);
        var g = Devices.HostValues.Doubles(gradients);
        var e = new double[x.Length];
        OutputGradients(w, x, y, g, e);
        for (int i = 0; i < x.Length; i++)
            for (int k = 0; k < p; k++) g[i * p + k] *= 2 * e[i];
        return gradients;
    }

    /// <summary>Every sample's gradient of the net's output, grad f_i (<see cref="NetMath.OutputGradient"/>), into the rows of <paramref name="g"/> [samples, parameters] (zeros), and its error e_i = f_i - y_i.</summary>
    private static void OutputGradients(NetWeights w, ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> g, Span<double> e)
    {
        int p = w.Count;
        for (int i = 0; i < x.Length; i++) e[i] = NetMath.OutputGradient(w, x[i], g.Slice(i * p, p)) - y[i];
    }

    /// <summary>The eigenvalues of a symmetric matrix, largest first (libtorch's eigvalsh, float64).</summary>
    public static double[] Eigenvalues(Tensor symmetric)
    {
        using var values = linalg.eigvalsh(symmetric);
        return Devices.HostValues.Doubles(values).ToArray().Reverse().ToArray();
    }

    /// <summary>The eigenvalues and eigenvectors (columns, same order) of a symmetric matrix, largest first.</summary>
    public static (double[] Values, double[,] Vectors) EigenDecomposition(Tensor symmetric)
    {
        var (values, vectors) = linalg.eigh(symmetric);
        using (values)
        using (vectors)
        {
            int p = (int)values.shape[0];
            var v = Devices.HostValues.Doubles(values).ToArray();
            using var contiguous = vectors.contiguous();
            var m = Devices.HostValues.Doubles(contiguous).ToArray();
            var order = Enumerable.Range(0, p).OrderByDescending(k => v[k]).ToArray();
            var sorted = new double[p, p];
            for (int r = 0; r < p; r++)
                for (int c = 0; c < p; c++) sorted[r, c] = m[r * p + order[c]];
            return (order.Select(k => v[k]).ToArray(), sorted);
        }
    }
}
