using TorchSharp;
using TorchMomentum.Theory;

namespace TorchMomentum.Tests;

public class TheoryTests
{
    [Fact]
    public void Gradient_descent_on_the_bowl_is_a_geometric_sequence_per_coordinate()
    {
        const double lr = 0.09;
        foreach (var (x0, y0) in new[] { (10.0, 1.0), (-10.0, -1.0) })
        {
            var path = QuadraticBowl.Path(x0, y0, lr, momentum: 0, iterations: 15);
            Assert.Equal(16, path.Count);
            foreach (var p in path)
            {
                // grad f = (2x, 20y), so x_t = (1 - 2 lr)^t x_0 and y_t = (1 - 20 lr)^t y_0
                Assert.Equal(Math.Pow(1 - 2 * lr, p.Iteration) * x0, p.X, 1e-12);
                Assert.Equal(Math.Pow(1 - 20 * lr, p.Iteration) * y0, p.Y, 1e-12);
                Assert.Equal(p.X * p.X + 10 * p.Y * p.Y, p.F, 1e-12);
            }
        }
    }

    [Theory]
    [InlineData(0.05, 0.6, 10.0, 60)]
    [InlineData(0.09, 0.0, 10.0, 60)]
    [InlineData(0.013, 0.97, 37.5, 60)]
    [InlineData(0.3, 0.9, 3.0, 60)] // diverges along y: the bits agree all the way up
    [InlineData(0.45, 0.0, 1.5, 800)] // x and y fall through the subnormal doubles to 0, where 2 * (w * p) and (2w) * p part
    public void The_path_s_hand_gradient_is_bit_for_bit_autograd_s(double lr, double momentum, double s, int iterations)
    {
        var path = QuadraticBowl.Path(-7.3, 1.9, lr, momentum, iterations, s);

        // The same steps with the gradient of sum((1, s) * (x, y)^2) by autograd.
        using var point = new TorchSharp.Modules.Parameter(torch.tensor(new[] { -7.3, 1.9 }, dtype: torch.ScalarType.Float64));
        using var optimizer = new TorchMomentum.Optimizers.MomentumSgd([point], lr, momentum);
        using var weights = torch.tensor(new[] { 1.0, s }, dtype: torch.ScalarType.Float64);
        for (int t = 1; t <= iterations; t++)
        {
            using (torch.NewDisposeScope())
            {
                optimizer.zero_grad();
                (weights * point * point).sum().backward();
                optimizer.step();
            }
            var xy = point.data<double>();
            Assert.Equal(BitConverter.DoubleToInt64Bits(xy[0]), BitConverter.DoubleToInt64Bits(path[t].X));
            Assert.Equal(BitConverter.DoubleToInt64Bits(xy[1]), BitConverter.DoubleToInt64Bits(path[t].Y));
        }
    }

    [Fact]
    public void The_optimizer_driven_path_is_the_heavy_ball_recurrence_and_A_to_the_t()
    {
        const double lr = 0.05, momentum = 0.6;
        var path = QuadraticBowl.Path(10, 1, lr, momentum, 15);

        // The recurrence x_{t+1} = x_t - lr * grad + momentum * (x_t - x_{t-1}), x_{-1} = x_0.
        double px = 10, py = 1, x = 10, y = 1;
        for (int t = 1; t <= 15; t++)
        {
            (px, x) = (x, x - lr * 2 * x + momentum * (x - px));
            (py, y) = (y, y - lr * 20 * y + momentum * (y - py));
            Assert.Equal(x, path[t].X, 1e-12);
            Assert.Equal(y, path[t].Y, 1e-12);
        }

        // Per coordinate, (x_t, x_{t-1}) = A^t (x_0, x_0) with h = 2 for x and h = 20 for y.
        foreach (var (h, start, pick) in new (double, double, Func<BowlPoint, double>)[] { (2, 10, p => p.X), (20, 1, p => p.Y) })
        {
            var a = HeavyBall.IterationMatrix(h, lr, momentum);
            double current = start, previous = start;
            for (int t = 1; t <= 15; t++)
            {
                (current, previous) = (a[0, 0] * current + a[0, 1] * previous, a[1, 0] * current + a[1, 1] * previous);
                Assert.Equal(current, pick(path[t]), 1e-12);
            }
        }
    }

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(1, 0.3)]
    [InlineData(1, 0.6)]
    [InlineData(1, 0.9)]
    [InlineData(10, 0.0)]
    [InlineData(10, 0.3)]
    [InlineData(10, 0.6)]
    [InlineData(10, 0.9)]
    public void The_measured_rate_is_the_spectral_radius_for_every_default_case(double h, double momentum)
    {
        const double lr = 0.05;
        var xs = HeavyBall.Iterate(h, lr, momentum, 200);
        double rho = HeavyBall.SpectralRadius(h, lr, momentum);
        Assert.InRange(HeavyBall.MeasuredRate(xs).Rate!.Value - rho, -1e-3, 1e-3);
    }

    [Fact]
    public void The_measured_rate_holds_when_the_squares_of_the_iterates_underflow()
    {
        // x_t = 0.5^(t-1): by step 600 it is 1e-181, its square 1e-362, which is 0 in double.
        var xs = HeavyBall.Iterate(h: 10, lr: 0.05, momentum: 0, steps: 600);
        Assert.Equal(0, xs[^1] * xs[^1]);
        var measured = HeavyBall.MeasuredRate(xs);
        Assert.Equal(0.5, measured.Rate!.Value, 1e-9);
        Assert.Null(measured.ConvergedWithin);
        Assert.Null(measured.DivergedWithin);
    }

    [Fact]
    public void A_path_that_reaches_0_is_measured_on_the_steps_before_and_says_when()
    {
        // Past step 1023, 0.5^(t-1) is below double's normal range, then 0.
        var xs = HeavyBall.Iterate(h: 10, lr: 0.05, momentum: 0, steps: 1200);
        var measured = HeavyBall.MeasuredRate(xs);
        Assert.Equal(0.5, measured.Rate!.Value, 1e-9);
        int zero = measured.ConvergedWithin!.Value;
        Assert.True(double.IsNormal(xs[zero - 1]));
        Assert.All(xs.Skip(zero), x => Assert.False(double.IsNormal(x)));
        Assert.Equal(0, xs[^1]);

        // lr*h = 1 without momentum (exactly, in binary): 0 at the first step, nothing left to measure a rate on.
        var exact = HeavyBall.MeasuredRate(HeavyBall.Iterate(h: 2, lr: 0.5, momentum: 0, steps: 50));
        Assert.Equal(new RateMeasurement(null, 2, null), exact);
    }

    [Fact]
    public void A_path_that_overflows_is_measured_on_the_steps_before_and_says_when()
    {
        // x_t = (-9)^(t-1) overflows near step 324; then the iterates are inf and NaN.
        var xs = HeavyBall.Iterate(h: 10, lr: 1, momentum: 0, steps: 600);
        var measured = HeavyBall.MeasuredRate(xs);
        Assert.Equal(9, measured.Rate!.Value, 1e-6);
        int overflow = measured.DivergedWithin!.Value;
        Assert.True(double.IsFinite(xs[overflow - 1]));
        Assert.False(double.IsFinite(xs[overflow]));
        Assert.Null(measured.ConvergedWithin);
    }

    [Fact]
    public void The_default_cases_cover_real_and_complex_eigenvalues()
    {
        var kinds = new[] { 0.0, 0.3, 0.6, 0.9 }.SelectMany(m => new[] { 1.0, 10.0 }.Select(h => HeavyBall.Eigenvalues(h, 0.05, m).First.Imaginary != 0)).ToList();
        Assert.Contains(true, kinds);
        Assert.Contains(false, kinds);
        // momentum 0.9, h = 1: a complex pair of modulus sqrt(0.9)
        var (first, second) = HeavyBall.Eigenvalues(1, 0.05, 0.9);
        Assert.Equal(Math.Sqrt(0.9), first.Magnitude, 12);
        Assert.Equal(first, System.Numerics.Complex.Conjugate(second));
    }

    [Fact]
    public void The_iteration_is_A_to_the_t_from_x0_equal_x1()
    {
        const double h = 10, lr = 0.05, momentum = 0.6;
        var xs = HeavyBall.Iterate(h, lr, momentum, 60);
        var a = HeavyBall.IterationMatrix(h, lr, momentum);
        double current = 1, previous = 1;
        for (int t = 2; t <= 60; t++)
        {
            (current, previous) = (a[0, 0] * current + a[0, 1] * previous, current);
            Assert.Equal(current, xs[t], 1e-12);
        }
    }

    [Fact]
    public void Polyaks_parameters_give_the_square_root_rate()
    {
        var (lr, momentum, rate) = HeavyBall.Optimal(1, 100);
        Assert.Equal(4.0 / 121, lr, 15);
        Assert.Equal(Math.Pow(9.0 / 11, 2), momentum, 15);
        Assert.Equal(9.0 / 11, rate, 15);
        // At the optimum both extreme curvatures have |lambda| = sqrt(momentum*) = rate.
        Assert.Equal(rate, HeavyBall.SpectralRadius(1, lr, momentum), 6);
        Assert.Equal(rate, HeavyBall.SpectralRadius(100, lr, momentum), 6);
        var (gdLr, gdRate) = HeavyBall.OptimalGradientDescent(1, 100);
        Assert.Equal(2.0 / 101, gdLr, 15);
        Assert.Equal(99.0 / 101, gdRate, 15);
    }

    [Theory]
    [InlineData(0.1, 0.9)]
    [InlineData(0.01, 0.8)]
    [InlineData(0.5, 0)]
    public void A_gradient_k_steps_back_counts_lr_times_momentum_to_the_k_and_all_of_them_sum_to_the_limit(double lr, double momentum)
    {
        var weights = ConstantGradientVelocity.PastGradientWeights(lr, momentum, 400);
        for (int k = 0; k < weights.Length; k++)
            Assert.Equal(ConstantGradientVelocity.PastGradientWeight(lr, momentum, k), weights[k], Math.Max(1e-300, 1e-13 * ConstantGradientVelocity.PastGradientWeight(lr, momentum, k)));
        Assert.Equal(ConstantGradientVelocity.Limit(lr, momentum, g: 1), weights.Sum(), 1e-12);
    }

    [Theory]
    [InlineData(2, 0.05)]
    [InlineData(20, 0.01)]
    [InlineData(1, 0.5)]
    public void At_the_critical_momentum_the_eigenvalues_meet_in_a_double_root(double h, double lr)
    {
        double critical = HeavyBall.CriticalMomentum(h, lr);
        var (first, second) = HeavyBall.Eigenvalues(h, lr, critical);
        Assert.Equal(first.Real, second.Real, 6); // a double root, to the rounding of the square root
        Assert.Equal(Math.Sqrt(critical), first.Magnitude, 6);
        // Just above it the pair is complex (oscillation), just below it real (creeping).
        Assert.NotEqual(0, HeavyBall.Eigenvalues(h, lr, critical + 1e-3).First.Imaginary);
        Assert.Equal(0, HeavyBall.Eigenvalues(h, lr, Math.Max(0, critical - 1e-3)).First.Imaginary);
    }

    [Fact]
    public void The_velocity_under_a_constant_gradient_is_the_geometric_sum()
    {
        var steps = ConstantGradientVelocity.Run(lr: 0.1, momentum: 0.9, g: 1, steps: 100);
        Assert.All(steps, s => Assert.Equal(s.GeometricSum, s.Velocity, 1e-12));
        Assert.Equal(0.1, steps[0].Velocity, 15);
        Assert.Equal(0.1 * 1.9, steps[1].Velocity, 15);
        // The chapter: with momentum 0.9 the velocity approaches 10 times lr*g.
        Assert.Equal(1.0, ConstantGradientVelocity.Limit(0.1, 0.9, 1), 12);
        Assert.InRange(ConstantGradientVelocity.Limit(0.1, 0.9, 1) - steps[^1].Velocity, 0, 1e-4);
    }
}
