using TorchMomentum.Sweeps;
using TorchMomentum.Training;
using TorchMomentum.Validation;

namespace TorchMomentum.Tests;

/// <summary>One rule and one message per setting, said by each front end in its own words.</summary>
public sealed class RefusalTests
{
    [Fact]
    public void The_library_names_settings_and_each_front_end_says_them_its_way()
    {
        var problem = new SweepGrid { LrMin = 0.5, LrMax = 0.1 }.Problem()!.Value;
        Assert.Equal("--lr-max must be a number in [--lr-min = 0.5, inf) (got '0.1')", problem.ForCommandLine);
        Assert.Equal("lr-max must be a number in [lr-min = 0.5, inf) (got '0.1')", problem.ForApi);
    }

    [Fact]
    public void A_value_the_user_typed_is_never_taken_for_a_settings_name()
    {
        var problem = new ExperimentSettings { Contestants = "sgd,‹lr›" }.Problem()!.Value;
        Assert.Equal("--contestants must be distinct names from sgd|momentum|handwritten|nesterov|rmsprop|adam|sgd-effective|qhm|aggmo|accsgd|schedule-free|lion|ema|adamw, comma-separated (got 'sgd,‹lr›')", problem.ForCommandLine);
    }

    [Theory]
    [InlineData(-1.0, "x must be a number in [0, 1) (got '-1')")]
    [InlineData(double.NaN, "x must be a number in [0, 1) (got 'NaN')")]
    [InlineData(1.0, "x must be a number in [0, 1) (got '1')")]
    public void A_number_outside_its_interval_is_refused_with_the_interval(double value, string message) =>
        Assert.Equal(message, Refusal.Check("x", new Interval(0, 1, MaxOpen: true), value)!.Value.ForApi);

    [Fact]
    public void A_number_inside_its_interval_is_not_refused() => Assert.Null(Refusal.Check("x", new Interval(0, 1, MaxOpen: true), 0.5));
}
