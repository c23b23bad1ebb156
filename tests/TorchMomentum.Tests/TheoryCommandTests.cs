using TorchMomentum.Cli.CommandLine;

namespace TorchMomentum.Tests;

public sealed class TheoryCommandTests : IDisposable
{
    private readonly TemporaryFolder temporary = new();

    public void Dispose() => temporary.Dispose();

    [Theory]
    [InlineData("quadratic", "trajectories.csv", "method,start_x,start_y,iter,x,y,f", 4 * 16, "trajectories.png")]
    [InlineData("rate", "rate.csv", "case,h,lr,momentum,lambda1_re,lambda1_im,lambda2_re,lambda2_im,rho,measured_rate,difference,converged_within,diverged_within", 8 + 4, "rate.png")]
    [InlineData("velocity", "velocity.csv", "step,velocity,geometric_sum,limit", 50, "velocity.png")]
    public void Each_command_writes_its_csv_and_png_with_defaults(string command, string csv, string header, int rows, string png)
    {
        string folder = temporary["out"];
        var (exit, output, error) = CliRunner.Run(command, "--out", folder);
        Assert.True(exit == ExitCodes.Ok, error);
        var lines = File.ReadAllLines(Path.Combine(folder, csv));
        Assert.Equal(header, lines[0]);
        Assert.Equal(rows, lines.Length - 1);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(folder, png))[..4]);
        Assert.Equal(2, Directory.GetFiles(folder).Length);
        Assert.Contains("Wrote", output);
    }

    [Fact]
    public void Quadratic_shows_momentum_ahead_of_gradient_descent_after_15_iterations()
    {
        string folder = temporary["q"];
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("quadratic", "--out", folder).Exit);
        var last = File.ReadAllLines(Path.Combine(folder, "trajectories.csv")).Skip(1)
            .Select(l => l.Split(',')).Where(f => f[3] == "15")
            .ToDictionary(f => (f[0], f[1]), f => double.Parse(f[6], System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(last[("momentum", "10")] < last[("gd", "10")] / 2);
        Assert.True(last[("momentum", "-10")] < last[("gd", "-10")] / 2);
    }

    [Theory]
    [InlineData("--steps 600")]
    [InlineData("--lr 1 --steps 600")]
    [InlineData("--h 1e300 --steps 10")]
    public void Rate_prints_and_writes_no_NaN_when_iterates_underflow_or_overflow(string options)
    {
        string folder = temporary["rate"];
        var (exit, output, error) = CliRunner.Run(["rate", .. options.Split(' '), "--out", folder]);
        Assert.True(exit == ExitCodes.Ok, error);
        Assert.DoesNotContain("NaN", output);
        Assert.DoesNotContain("NaN", File.ReadAllText(Path.Combine(folder, "rate.csv")));
    }

    [Fact]
    public void Rate_says_a_path_converged_to_0_when_it_got_there_too_soon_to_measure()
    {
        string folder = temporary["rate"];
        var (exit, output, error) = CliRunner.Run("rate", "--h", "2", "--lr", "0.5", "--momentum", "0", "0.5", "--steps", "600", "--out", folder);
        Assert.True(exit == ExitCodes.Ok, error);
        // The table wraps the cell at the test console's width: "converged to 0 | within 2 steps".
        Assert.Contains("converged to 0", output);
        Assert.Contains("within 2 steps", output);
        var row = File.ReadAllLines(Path.Combine(folder, "rate.csv")).Single(l => l.StartsWith("grid,2,0.5,0,", StringComparison.Ordinal)).Split(',');
        Assert.Equal(["", "", "2", ""], row[9..]);
    }

    [Theory]
    [InlineData("quadratic", "--iterations", "0", "--iterations must be a whole number in [1, 100000] (got '0')")]
    [InlineData("quadratic", "--gd-lr", "-0.1", "--gd-lr must be a number in [0, inf) (got '-0.1')")]
    [InlineData("quadratic", "--momentum", "1", "--momentum must be a number in [0, 1) (got '1')")]
    [InlineData("rate", "--h", "0", "--h must be numbers in (0, inf) (got '0')")]
    [InlineData("rate", "--momentum", "0.5 x", "--momentum must be numbers in [0, 1) (got 'x')")]
    [InlineData("rate", "--steps", "3", "--steps must be a whole number in [8, 100000] (got '3')")]
    [InlineData("rate", "--L", "0.5", "--L must be a number in [--mu = 1, inf) (got '0.5')")]
    [InlineData("velocity", "--g", "abc", "--g must be a number in")]
    [InlineData("velocity", "--lr", "NaN", "--lr must be a number in [0, inf) (got 'NaN')")]
    [InlineData("velocity", "--steps", "0", "--steps must be a whole number in [1, 100000] (got '0')")]
    public void Bad_values_are_refused_with_one_line_exit_code_2_and_nothing_written(string command, string option, string value, string expected)
    {
        string folder = temporary["bad"];
        var (exit, _, error) = CliRunner.Run([command, option, .. value.Split(' '), "--out", folder]);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains(expected, error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.False(Directory.Exists(folder));
    }
}
