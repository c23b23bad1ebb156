using System.Globalization;
using System.Text.RegularExpressions;
using TorchMomentum.Cli.CommandLine;
using TorchMomentum.Cli.Output;
using TorchMomentum.Theory;

namespace TorchMomentum.Tests;

public sealed class TheoryCommandTests : IDisposable
{
    private readonly TemporaryFolder temporary = new();

    public void Dispose() => temporary.Dispose();

    [Theory]
    [InlineData("quadratic", "trajectories.csv", "method,start_x,start_y,iter,x,y,f", 4 * 16, "trajectories.png")]
    [InlineData("rate", "rate.csv", "case,h,lr,momentum,lambda1_re,lambda1_im,lambda2_re,lambda2_im,rho,measured_rate,difference,converged_within,diverged_within", 8 + 4, "rate.png")]
    [InlineData("velocity", "velocity.csv", "step,velocity,geometric_sum,limit", 50, "velocity.png")]
    [InlineData("noise", "noise.csv", "momentum,iter,mean_f,p10_f,p90_f,stationary_f", 2 * 301, "noise.png")]
    public void Each_command_writes_its_csv_and_png_with_defaults(string command, string csv, string header, int rows, string png)
    {
        string folder = temporary["out"];
        var (exit, output, error) = CliRunner.Run(command, "--out", folder);
        Assert.True(exit == ExitCodes.Ok, error);
        var lines = File.ReadAllLines(Path.Combine(folder, csv));
        Assert.Equal(header, lines[0]);
        Assert.Equal(rows, lines.Length - 1);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(folder, png))[..4]);
        string[] more = command switch { "velocity" => ["past-gradients.csv", "past-gradients.png"], "quadratic" => ["errors.png"], _ => [] };
        Assert.Equal(new[] { csv, png }.Concat(more).Order(StringComparer.Ordinal), RunFolderFiles.Of(folder));
        Assert.Contains("Wrote", output);
    }

    [Theory]
    [InlineData("--lr", "5", "--lr x --h must be in (0, 2 (1 + --momentum)) = (0, 3.8) for the runs to settle (got 5 x 1 = 5); make --lr smaller")]
    [InlineData("--runs", "100000", "--runs x --iterations must be at most 100000000 (got 100000 x 100000 = 10000000000)")]
    public void Noise_refuses_runs_that_cannot_settle_or_fit_in_one_line(string option, string value, string message)
    {
        string folder = temporary["noise"];
        string[] args = option == "--runs" ? ["noise", "--runs", "100000", "--iterations", "100000", "--out", folder] : ["noise", option, value, "--out", folder];
        var (exit, _, error) = CliRunner.Run(args);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(message + ".", error.Trim());
        Assert.False(Directory.Exists(folder));
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
    [InlineData("--h 1e50 --steps 10")]
    public void Rate_prints_and_writes_no_NaN_when_iterates_underflow_or_overflow(string options)
    {
        string folder = temporary["rate"];
        var (exit, output, error) = CliRunner.Run(["rate", .. options.Split(' '), "--out", folder]);
        Assert.True(exit == ExitCodes.Ok, error);
        Assert.DoesNotContain("NaN", output);
        Assert.DoesNotContain("NaN", File.ReadAllText(Path.Combine(folder, "rate.csv")));
    }

    [Fact]
    public void Rate_refuses_a_step_whose_matrix_has_no_double_eigenvalues_before_creating_anything()
    {
        string folder = temporary["rate"];
        var (exit, _, error) = CliRunner.Run("rate", "--h", "1", "1e300", "--out", folder);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("--lr x --h must be at most 1E+100 (got 0.05 x 1E+300 = 5E+298): A's eigenvalues would not fit a double.", error.TrimEnd());
        Assert.False(Directory.Exists(folder));
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
    [InlineData("velocity", "--lr", "1e300 --g 1e300", "--lr, --g and --momentum must give a limit lr*g/(1 - momentum) within [-1.8E+308, 1.8E+308], the range of a double (got 1E+300 * 1E+300 / (1 - 0.9) = inf)")]
    [InlineData("velocity", "--lr", "1e300 --g -1e300", "(got 1E+300 * -1E+300 / (1 - 0.9) = -inf)")]
    [InlineData("velocity", "--lr", "1e307 --g 1e-10", "--lr must keep lr/(1 - momentum) finite for every momentum the past-gradient figure draws, up to 0.99 (got 1E+307 / (1 - 0.99) = inf)")]
    [InlineData("noise", "--h", "1e-300 --sigma 1000000", "--lr, --h and --sigma must give a finite closed-form floor")]
    [InlineData("noise", "--h", "5e-324", "the product is too small for a double: make --lr or --h larger.")]
    public void Bad_values_are_refused_with_one_line_exit_code_2_and_nothing_written(string command, string option, string value, string expected)
    {
        string folder = temporary["bad"];
        var (exit, _, error) = CliRunner.Run([command, option, .. value.Split(' '), "--out", folder]);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains(expected, error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.False(Directory.Exists(folder));
    }

    /// <summary>Reads trajectories.csv into paths keyed by (method, start x), each a list of (iteration, x, y, f).</summary>
    private static Dictionary<(string Method, string StartX), List<(int Iteration, double X, double Y, double F)>> Paths(string file)
    {
        var lines = File.ReadAllLines(file);
        Assert.DoesNotMatch(new Regex("inf|nan", RegexOptions.IgnoreCase), string.Join("\n", lines.Skip(1)));
        return lines.Skip(1).Select(l => l.Split(','))
            .GroupBy(f => (f[0], f[1]))
            .ToDictionary(g => g.Key, g => g.Select(f => (int.Parse(f[3], CultureInfo.InvariantCulture), Parse(f[4]), Parse(f[5]), Parse(f[6]))).ToList());
    }

    private static double Parse(string text)
    {
        double value = double.Parse(text, CultureInfo.InvariantCulture);
        Assert.True(double.IsFinite(value), $"'{text}' is not a finite number");
        return value;
    }

    [Theory]
    [InlineData("0.2", "0.2", 2000, 4)] // the report's case: every path overflows
    [InlineData("0.2", "0.05", 600, 2)] // gradient descent diverges, momentum converges
    public void Quadratic_keeps_each_diverging_path_up_to_its_last_finite_iterate_and_exits_3(string gdLr, string lr, int iterations, int diverging)
    {
        string folder = temporary["diverged"];
        var (exit, output, error) = CliRunner.Run("quadratic", "--gd-lr", gdLr, "--lr", lr, "--iterations", iterations.ToString(CultureInfo.InvariantCulture), "--out", folder);

        Assert.Equal(ExitCodes.Diverged, exit);
        Assert.Contains("Wrote trajectories.csv, trajectories.png", output);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(folder, "trajectories.png"))[..4]);
        var lines = error.TrimEnd().Split('\n');
        Assert.Equal(diverging, lines.Length);
        var paths = Paths(Path.Combine(folder, "trajectories.csv"));
        Assert.Equal(4, paths.Count);
        var said = new HashSet<(string, string)>();
        foreach (string line in lines)
        {
            var m = Regex.Match(line, @"^(gradient descent|momentum) from \((-?10), (-?1)\) diverged at iteration (\d+): f passed 1\.8E\+308, the largest double, after f = \S+ at iteration (\d+); trajectories\.csv keeps iterations 0 to (\d+)\.$");
            Assert.True(m.Success, line);
            string method = m.Groups[1].Value == "gradient descent" ? "gd" : "momentum";
            int at = int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
            Assert.Equal(at - 1, int.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture));
            Assert.Equal(at - 1, int.Parse(m.Groups[6].Value, CultureInfo.InvariantCulture));
            said.Add((method, m.Groups[2].Value));

            // The file holds iterations 0 to at - 1, and the path computed anew stops being finite exactly at `at`.
            var kept = paths[(method, m.Groups[2].Value)];
            Assert.Equal(Enumerable.Range(0, at), kept.Select(p => p.Iteration));
            var whole = QuadraticBowl.Path(double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture),
                double.Parse(method == "gd" ? gdLr : lr, CultureInfo.InvariantCulture), method == "gd" ? 0 : 0.6, iterations);
            Assert.True(double.IsFinite(whole[at - 1].F));
            Assert.False(double.IsFinite(whole[at].F));
            Assert.Equal(whole[at - 1].F, kept[^1].F);
        }
        // The paths no line names ran to the end.
        Assert.All(paths.Where(p => !said.Contains(p.Key)), p => Assert.Equal(iterations, p.Value[^1].Iteration));
        Assert.Equal(4 - diverging, paths.Count(p => !said.Contains(p.Key)));
    }

    [Fact]
    public void A_csv_cell_that_is_not_a_finite_number_stops_the_write_and_leaves_no_file()
    {
        string file = temporary["values.csv"];
        foreach (double bad in new[] { double.PositiveInfinity, double.NegativeInfinity, double.NaN })
        {
            var error = Assert.Throws<InvalidOperationException>(() =>
                CsvFile.Write(file, ["name", "value"], [["a", CsvFile.Number(1.5)], ["b", CsvFile.Number(bad)]]));
            Assert.Contains("values.csv, line 3, value:", error.Message);
            Assert.Empty(Directory.GetFiles(temporary.Path));
        }
        CsvFile.Write(file, ["name", "value"], [["gd", CsvFile.Number(1.5)]]);
        Assert.Equal("name,value\ngd,1.5\n", File.ReadAllText(file));
    }
}
