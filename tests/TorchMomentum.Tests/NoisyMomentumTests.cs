using TorchMomentum.Theory;

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
}
