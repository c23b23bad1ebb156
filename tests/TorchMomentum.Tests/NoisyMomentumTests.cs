using TorchMomentum.Optimizers;
using TorchMomentum.Theory;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

/// <summary>Momentum under noisy gradients: the simulated runs against the closed-form noise floor.</summary>
public class NoisyMomentumTests
{
    [Theory]
    [InlineData(0.1, 0.9, 1.0, 1.0)]
    [InlineData(0.1, 0.0, 1.0, 1.0)]
    [InlineData(0.05, 0.5, 4.0, 0.3)]
    public void The_runs_settle_at_the_closed_form_expected_f_within_its_statistical_error(double lr, double momentum, double h, double sigma)
    {
        const int runs = 4000, iterations = 1500, settled = 500;
        var simulated = NoisyMomentum.Simulate(lr, momentum, h, sigma, start: 2, runs, iterations, seed: 7);
        double measured = simulated.MeanF[settled..].Average();
        double expected = NoisyMomentum.StationaryF(lr, momentum, h, sigma);
        // f = h/2 x^2 of a Gaussian x has standard deviation sqrt(2) E f; the mean over 4,000 runs and 1,000
        // correlated iterations (at least 10 independent ones) is within 1% of E f with a large margin; 3% allowed.
        Assert.InRange(measured / expected, 0.97, 1.03);
    }

    [Fact]
    public void Momentum_shortens_the_transient_but_its_floor_grows_like_lr_over_one_minus_momentum()
    {
        // The same lr: momentum 0.9 gets near its floor sooner than plain descent gets near its own, but the floor is higher.
        double plain = NoisyMomentum.StationaryF(0.01, 0, 1, 1), heavy = NoisyMomentum.StationaryF(0.01, 0.9, 1, 1);
        Assert.InRange(heavy / plain, 10 * 0.9, 10 * 1.2); // about 1/(1 - 0.9) times, lr h being small
        var slow = NoisyMomentum.Simulate(0.01, 0, 1, 1, start: 5, runs: 500, iterations: 300, seed: 1);
        var fast = NoisyMomentum.Simulate(0.01, 0.9, 1, 1, start: 5, runs: 500, iterations: 300, seed: 1);
        int Reach(NoisyRuns r, double floor) => Array.FindIndex(r.MeanF, f => f < 2 * floor);
        Assert.True(Reach(fast, heavy) is > 0 and < 120, $"momentum reached twice its floor at {Reach(fast, heavy)}");
        Assert.Equal(-1, Reach(slow, plain)); // plain descent is still far above its (lower) floor after 300 steps
        Assert.False(NoisyMomentum.Settles(3, 0.4, 1)); // lr h = 3 > 2 (1 + 0.4): no floor, the runs diverge
    }

    [Theory]
    [InlineData(0.05, 0.9, 1.0, 1.0, 200, 300)]
    [InlineData(0.3, 0.5, 2.0, 3.0, 37, 50)]
    public void Every_momentum_of_one_simulation_is_momentum_sgds_runs_of_that_momentum_alone_to_the_bit(double lr, double momentum, double h, double sigma, int runs, int iterations)
    {
        // All momenta share one tensor, one noise draw and one step; the reference is the library's optimizer on one
        // momentum's runs, with a generator of the same seed of its own.
        var methods = NoisyMomentum.BesidePlainDescent(lr, momentum, h, sigma, 5, runs, iterations, seed: 3);
        Assert.Equal([0, momentum], methods.Select(m => m.Momentum));
        foreach (var method in methods)
        {
            var alone = Alone(lr, method.Momentum, h, sigma, runs, iterations);
            long[] Bits(double[] values) => [.. values.Select(BitConverter.DoubleToInt64Bits)];
            Assert.Equal(Bits(alone.MeanF), Bits(method.Runs.MeanF));
            Assert.Equal(Bits(alone.LowF), Bits(method.Runs.LowF));
            Assert.Equal(Bits(alone.HighF), Bits(method.Runs.HighF));
        }
    }

    /// <summary>
    /// One momentum's runs by <see cref="MomentumSgd"/>, as the noise view made them before it summed them up in place:
    /// f by tensor operations, its mean in the runs' order, its band from a whole sort.
    /// </summary>
    private static NoisyRuns Alone(double lr, double momentum, double h, double sigma, int runs, int iterations)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(3);
        var x = new TorchSharp.Modules.Parameter(full(runs, 5.0, dtype: ScalarType.Float64));
        using var optimizer = new MomentumSgd([x], lr, momentum, formulation: MomentumFormulation.Chapter);
        var noise = empty(runs, dtype: ScalarType.Float64);
        var summed = new NoisyRuns(new double[iterations + 1], new double[iterations + 1], new double[iterations + 1]);
        for (int t = 0; t <= iterations; t++)
        {
            if (t > 0)
            {
                using (no_grad())
                    x.grad = x.detach().mul(h).add_(noise.normal_(generator: generator).mul_(sigma));
                optimizer.step();
            }
            var f = x.detach().mul(x.detach()).mul_(h / 2).data<double>().ToArray();
            double sum = 0;
            foreach (double value in f) sum += value;
            Array.Sort(f);
            (summed.MeanF[t], summed.LowF[t], summed.HighF[t]) = (sum / runs, f[(int)(0.1 * (runs - 1))], f[(int)(0.9 * (runs - 1))]);
        }
        return summed;
    }
}
