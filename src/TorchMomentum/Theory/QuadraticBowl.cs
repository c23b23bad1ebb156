using TorchMomentum.Devices;
using TorchMomentum.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Theory;

/// <summary>One iterate of a path over the bowl.</summary>
/// <param name="Iteration">0 for the start point, then 1, 2, ...</param>
/// <param name="X">x coordinate.</param>
/// <param name="Y">y coordinate.</param>
/// <param name="F">f(x, y) there.</param>
public sealed record BowlPoint(int Iteration, double X, double Y, double F);

/// <summary>One path over the bowl: the method ("gd" or "momentum"), its start and its iterates.</summary>
public sealed record Trajectory(string Method, double StartX, double StartY, IReadOnlyList<BowlPoint> Points);

/// <summary>
/// Section 5.4: the elongated bowl f(x, y) = x^2 + s*y^2 (the chapter's s is 10: steep across, flat along),
/// where plain gradient descent zig-zags in y and momentum gets to the minimum sooner. Its curvatures, the
/// eigenvalues of its Hessian, are 2 along x and 2s along y.
/// </summary>
public static class QuadraticBowl
{
    /// <summary>The chapter's steepness s.</summary>
    public const double ChapterSteepness = 10;

    /// <summary>f(x, y) = x^2 + s * y^2.</summary>
    public static double F(double x, double y, double s = ChapterSteepness) => x * x + s * y * y;

    /// <summary>The Hessian's eigenvalues, the curvature h of each direction: 2 along x, 2s along y.</summary>
    public static (double X, double Y) Curvatures(double s = ChapterSteepness) => (2, 2 * s);

    /// <summary>
    /// The path of heavy-ball momentum x_{t+1} = x_t - lr * grad f(x_t) + momentum * (x_t - x_{t-1}) with
    /// x_{-1} = x_0 (plain gradient descent when momentum is 0), in float64. The step is <see cref="MomentumSgd"/>'s:
    /// with a constant lr, PyTorch's buffer form is exactly this recurrence, since x_t - x_{t-1} = -lr * b_{t-1}.
    /// The gradient (2x, 2s*y) is worked out as autograd works out that of the sum of (1, s) * (x, y)^2 into a zeroed
    /// .grad, 0 + (u + u) with u = (1, s) * (x, y): the same bits, subnormal ones and the sign of zero too (a test holds
    /// them equal; only a start of exactly -0 differs, in its first step's zero), at a quarter of the cost: the explore
    /// page asks for a path on every slider move.
    /// </summary>
    /// <returns>The start point and <paramref name="iterations"/> iterates.</returns>
    public static IReadOnlyList<BowlPoint> Path(double startX, double startY, double lr, double momentum, int iterations, double s = ChapterSteepness)
    {
        // Every tensor is made once, before the loop, and each step works in place: the explore page asks for a path
        // on every slider move, and each tensor or Scalar a step made was one more object for the garbage collector.
        using var start = Vector(startX, startY);
        using var point = new Parameter(start);
        using var weights = Vector(1.0, s);
        using (var zero = zeros_like(point)) point.grad = zero; // the parameter holds its own reference
        using var optimizer = new MomentumSgd([point], lr, momentum);
        var path = new List<BowlPoint>(iterations + 1) { new(0, startX, startY, F(startX, startY, s)) };
        Tensor? grad = null;
        try
        {
            for (int t = 1; t <= iterations; t++)
            {
                // The optimizer keeps the gradient in its flat buffer from the first step on: the same tensor every step after.
                if (t <= 2)
                {
                    grad?.Dispose();
                    grad = point.grad!;
                }
                using (no_grad())
                {
                    // u = (1, s) * (x, y), then u + u, then 0 + that, in place in the .grad: as autograd adds the
                    // gradient of sum((1, s) * (x, y)^2) into the .grad zero_grad zeroed (which makes a -0 gradient +0).
                    grad!.copy_(point).mul_(weights);
                    grad.add_(grad, Scalars.One).add_(Scalars.Zero, Scalars.One);
                }
                optimizer.step();
                var xy = HostValues.Doubles(point);
                path.Add(new BowlPoint(t, xy[0], xy[1], F(xy[0], xy[1], s)));
            }
        }
        finally
        {
            grad?.Dispose();
        }
        return path;
    }

    /// <summary>The float64 vector (a, b), written in place: a tensor made from a .NET array pins the array for its whole life.</summary>
    private static Tensor Vector(double a, double b)
    {
        var v = empty(2, dtype: ScalarType.Float64);
        var values = HostValues.Doubles(v);
        (values[0], values[1]) = (a, b);
        return v;
    }
}
