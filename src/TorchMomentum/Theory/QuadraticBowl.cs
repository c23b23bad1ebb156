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
/// Section 5.4: the elongated bowl f(x, y) = x^2 + 10*y^2 (steep across, flat along), where plain gradient
/// descent zig-zags in y and momentum gets to the minimum sooner.
/// </summary>
public static class QuadraticBowl
{
    /// <summary>f(x, y) = x^2 + 10 * y^2.</summary>
    public static double F(double x, double y) => x * x + 10 * y * y;

    /// <summary>
    /// The path of heavy-ball momentum x_{t+1} = x_t - lr * grad f(x_t) + momentum * (x_t - x_{t-1}) with
    /// x_{-1} = x_0 (plain gradient descent when momentum is 0), in float64. The gradient comes from
    /// TorchSharp's autograd and the step from <see cref="MomentumSgd"/>: with a constant lr, PyTorch's
    /// buffer form is exactly this recurrence, since x_t - x_{t-1} = -lr * b_{t-1}.
    /// </summary>
    /// <returns>The start point and <paramref name="iterations"/> iterates.</returns>
    public static IReadOnlyList<BowlPoint> Path(double startX, double startY, double lr, double momentum, int iterations)
    {
        var point = new Parameter(tensor(new[] { startX, startY }, dtype: ScalarType.Float64));
        using var optimizer = new MomentumSgd([point], lr, momentum);
        using var weights = tensor(new[] { 1.0, 10.0 }, dtype: ScalarType.Float64);
        var path = new List<BowlPoint> { new(0, startX, startY, F(startX, startY)) };
        for (int t = 1; t <= iterations; t++)
        {
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                (weights * point * point).sum().backward();
                optimizer.step();
            }
            var xy = point.data<double>();
            path.Add(new BowlPoint(t, xy[0], xy[1], F(xy[0], xy[1])));
        }
        return path;
    }
}
