using TorchMomentum.Devices;
using System.Numerics;
using TorchMomentum.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Theory;

/// <summary>
/// Section 5.2: the heavy-ball method on the one-dimensional quadratic f(x) = h/2 * x^2, its iteration
/// matrix and its linear rate of convergence.
/// </summary>
public static class HeavyBall
{
    /// <summary>
    /// The iteration matrix A of x_{t+1} = x_t - lr*f'(x_t) + momentum*(x_t - x_{t-1}) on f = h/2 x^2:
    /// <code>
    ///   [x_{t+1}]   [1 - lr*h + momentum   -momentum] [x_t    ]
    ///   [x_t    ] = [1                      0       ] [x_{t-1}]
    /// </code>
    /// </summary>
    public static double[,] IterationMatrix(double h, double lr, double momentum) => new[,] { { 1 - lr * h + momentum, -momentum }, { 1, 0 } };

    /// <summary>
    /// The eigenvalues of A: the roots of lambda^2 - a*lambda + momentum with a = 1 - lr*h + momentum, that is
    /// (a +- sqrt(a^2 - 4*momentum)) / 2; a complex pair of modulus sqrt(momentum) when a^2 &lt; 4*momentum.
    /// </summary>
    public static (Complex First, Complex Second) Eigenvalues(double h, double lr, double momentum)
    {
        double a = 1 - lr * h + momentum, discriminant = a * a - 4 * momentum;
        if (discriminant >= 0) return ((a + Math.Sqrt(discriminant)) / 2, (a - Math.Sqrt(discriminant)) / 2);
        double imaginary = Math.Sqrt(-discriminant) / 2;
        return (new Complex(a / 2, imaginary), new Complex(a / 2, -imaginary));
    }

    /// <summary>
    /// Critical damping: the momentum at which the eigenvalues of A meet in a double root, a^2 = 4*momentum with
    /// a = 1 - lr*h + momentum, i.e. momentum = (1 - sqrt(lr*h))^2, the square of the root <see cref="CriticalRoot"/>.
    /// Below it the roots are real, above it a complex pair of modulus sqrt(momentum) (the direction spirals); at it
    /// rho(A) is smallest for this lr, so the direction converges fastest. A momentum exists for 0 &lt;= lr*h &lt; 4; from
    /// lr*h = 4 on the value is 1 or more and every momentum diverges.
    /// </summary>
    public static double CriticalMomentum(double h, double lr) => Math.Pow(CriticalRoot(h, lr), 2);

    /// <summary>
    /// The double root at critical damping: a/2 with a = 1 - lr*h + momentum and momentum = (1 - sqrt(lr*h))^2, which is
    /// 1 - sqrt(lr*h). For lr*h &lt; 1 it is positive and the direction creeps in without oscillating; for lr*h &gt; 1 it
    /// is negative and the direction flips sign every step.
    /// </summary>
    public static double CriticalRoot(double h, double lr) => 1 - Math.Sqrt(lr * h);

    /// <summary>The spectral radius rho(A) = max |lambda|: the linear rate the iteration converges at.</summary>
    public static double SpectralRadius(double h, double lr, double momentum)
    {
        var (first, second) = Eigenvalues(h, lr, momentum);
        return Math.Max(first.Magnitude, second.Magnitude);
    }

    /// <summary>
    /// The envelope a direction's error stays near (Distill's decomposition): |e_0| rho^t for t = 0 ..
    /// <paramref name="iterations"/>, with rho = <see cref="SpectralRadius"/>. It is exact for gradient descent and
    /// bounds momentum's error up to a constant (at critical damping, the double root's t rho^t outgrows it for a while).
    /// </summary>
    public static double[] Envelope(double start, double h, double lr, double momentum, int iterations)
    {
        double rho = SpectralRadius(h, lr, momentum);
        return Enumerable.Range(0, iterations + 1).Select(t => Math.Abs(start) * Math.Pow(rho, t)).ToArray();
    }

    /// <summary>
    /// Runs the iteration from x_0 = x_1 = <paramref name="x0"/> for <paramref name="steps"/> steps with
    /// <see cref="MomentumSgd"/> on a one-element float64 parameter, the gradient h*x coming from autograd.
    /// PyTorch's first step sets the buffer to the gradient, which is the recurrence with x_{-1} = x_0; so
    /// the optimizer's iterates x_1, x_2, ... are the recurrence's x_2, x_3, ... started from x_0 = x_1.
    /// </summary>
    /// <returns>x_0 .. x_steps (steps + 1 values).</returns>
    public static double[] Iterate(double h, double lr, double momentum, int steps, double x0 = 1)
    {
        using var start = tensor(new[] { x0 }, dtype: ScalarType.Float64);
        using var x = new Parameter(start);
        using var optimizer = new MomentumSgd([x], lr, momentum);
        var xs = new double[steps + 1];
        xs[0] = x0;
        // x_1 = x_0: the first optimizer step produces x_2.
        if (steps >= 1) xs[1] = x0;
        for (int t = 2; t <= steps; t++)
        {
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                (0.5 * h * x * x).sum().backward();
                optimizer.step();
            }
            xs[t] = HostValues.Doubles(x)[0];
        }
        return xs;
    }

    /// <summary>
    /// The linear rate measured from iterates x_0..x_N: exp of the slope of the least-squares line through
    /// log |z_t| for t from M/2 to M, where z_t = (x_t, x_{t-1}) is the state A acts on and M is the last step
    /// whose iterate double still holds with all its digits (N unless the path reached 0 or overflowed first,
    /// which the result says). Why not |x_t|^(1/t) or a ratio of two iterates: with complex eigenvalues
    /// x_t ~ rho^t cos(theta*t + phi) oscillates, and single iterates can sit anywhere on the wave (even near
    /// zero). Using the state's norm keeps log |z_t| finite, and a straight-line fit over many periods averages
    /// the wave out; by M/2 the faster of two real modes has died away. On the default cases it is within 4e-4
    /// of rho(A). With a repeated eigenvalue (Polyak's optimal parameters) the iterates decay as t*rho^t and the
    /// measurement reads a little high, by about rho/t. The norm is taken in logarithms, never as a sum of
    /// squares: a square underflows to 0 (and its log to -inf) long before the iterate does, e.g. 0.5^600.
    /// </summary>
    public static RateMeasurement MeasuredRate(IReadOnlyList<double> xs)
    {
        int n = xs.Count - 1;
        int? diverged = null, converged = null;
        for (int t = 0; t <= n && diverged is null; t++)
            if (!double.IsFinite(xs[t])) diverged = t;
        if (diverged is null)
        {
            // The tail of iterates that are 0 or subnormal: below the normal range, digits are lost one by one.
            int tail = n + 1;
            while (tail > 0 && !double.IsNormal(xs[tail - 1])) tail--;
            if (tail <= n) converged = tail;
        }
        int last = (diverged ?? converged ?? n + 1) - 1, half = last / 2;
        if (half < 2) return new RateMeasurement(null, converged, diverged);
        var points = Enumerable.Range(half, last - half + 1).Select(t => (T: (double)t, LogNorm: LogNorm(xs[t], xs[t - 1]))).ToList();
        double meanT = points.Average(p => p.T), meanLog = points.Average(p => p.LogNorm);
        double slope = points.Sum(p => (p.T - meanT) * (p.LogNorm - meanLog)) / points.Sum(p => (p.T - meanT) * (p.T - meanT));
        return new RateMeasurement(Math.Exp(slope), converged, diverged);
    }

    // log sqrt(a^2 + b^2) without forming a square, which would underflow or overflow: the larger magnitude
    // factored out, the ratio's square at most 1. Not both 0: two zero iterates in a row stay 0, so they are
    // part of the converged tail, outside the fit.
    private static double LogNorm(double a, double b)
    {
        double large = Math.Max(Math.Abs(a), Math.Abs(b)), ratio = Math.Min(Math.Abs(a), Math.Abs(b)) / large;
        return Math.Log(large) + 0.5 * Math.Log(1 + ratio * ratio);
    }

    /// <summary>
    /// Polyak's optimal heavy-ball parameters for a quadratic whose curvatures lie in [mu, L], kappa = L/mu:
    /// lr* = 4 / (sqrt(L) + sqrt(mu))^2, momentum* = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2, with rate
    /// (sqrt(kappa) - 1) / (sqrt(kappa) + 1).
    /// </summary>
    public static (double Lr, double Momentum, double Rate) Optimal(double mu, double l)
    {
        double root = Math.Sqrt(l / mu), rate = (root - 1) / (root + 1);
        return (4 / Math.Pow(Math.Sqrt(l) + Math.Sqrt(mu), 2), rate * rate, rate);
    }

    /// <summary>
    /// The best plain gradient descent on the same quadratic: lr = 2 / (L + mu), rate (kappa - 1) / (kappa + 1).
    /// </summary>
    public static (double Lr, double Rate) OptimalGradientDescent(double mu, double l) => (2 / (l + mu), (l / mu - 1) / (l / mu + 1));
}
