using System.Globalization;
using System.Net;
using System.Text.Json;
using TorchMomentum.Cli.Explore;
using TorchMomentum.Theory;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

/// <summary>
/// What the explore API sends for the pictures of issue 22: the error per direction and critical damping
/// (<c>/api/bowl</c>, <c>/api/ratemap</c>), noisy runs (<c>/api/noise</c>), the weights of past gradients
/// (<c>/api/velocity</c>) and the fit streamed with a training (<c>/api/train</c>), each the library's numbers.
/// </summary>
public sealed class ExploreTheoryApiTests : LoopbackExploreServer
{
    private static double[] Numbers(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    private async Task<JsonElement> Get(string query) => JsonDocument.Parse(await client.GetStringAsync(query)).RootElement;

    [Fact]
    public async Task Each_direction_comes_with_its_critical_momentum_and_its_envelope()
    {
        var root = await Get("api/bowl?lr=0.02&momentum=0&x=-10&y=1.5&iterations=40&s=10");
        var points = root.GetProperty("points").EnumerateArray().ToList();
        foreach (var (direction, h, coordinate) in new[] { (root.GetProperty("directions")[0], 2.0, "x"), (root.GetProperty("directions")[1], 20.0, "y") })
        {
            Assert.Equal(Math.Pow(1 - Math.Sqrt(0.02 * h), 2), direction.GetProperty("critical_momentum").GetDouble(), 15);
            // Gradient descent's error is its envelope |e_0| rho^t itself (rho = |1 - lr h|), to rounding.
            double[] envelope = Numbers(direction.GetProperty("envelope"));
            Assert.Equal(points.Count, envelope.Length);
            for (int t = 0; t < points.Count; t++)
                Assert.Equal(Math.Abs(points[t].GetProperty(coordinate).GetDouble()), envelope[t], 1e-12 * envelope[0]);
        }
    }

    [Fact]
    public async Task A_momentum_path_s_envelope_is_its_directions_rho_to_the_t()
    {
        var root = await Get("api/bowl?lr=0.03&momentum=0.7&x=-10&y=1.5&iterations=60&s=10");
        foreach (var (direction, h, start) in new[] { (root.GetProperty("directions")[0], 2.0, -10.0), (root.GetProperty("directions")[1], 20.0, 1.5) })
        {
            double rho = direction.GetProperty("rho").GetDouble();
            Assert.Equal(HeavyBall.SpectralRadius(h, 0.03, 0.7), rho);
            double[] envelope = Numbers(direction.GetProperty("envelope"));
            Assert.Equal(61, envelope.Length);
            for (int t = 0; t <= 60; t++) Assert.Equal(Math.Abs(start) * Math.Pow(rho, t), envelope[t], 1e-12 * Math.Abs(start));
        }
    }

    [Fact]
    public async Task From_a_zero_start_the_envelope_is_zero_even_where_rho_to_the_t_overflows()
    {
        // y starts at 0 with rho 199: 0 * 199^t is NaN from t = 134 on, which JSON could not carry.
        var root = await Get("api/bowl?lr=1&momentum=0&x=1&y=0&iterations=1000&s=100");
        Assert.False(root.GetProperty("diverged").GetBoolean());
        double[] envelope = Numbers(root.GetProperty("directions")[1].GetProperty("envelope"));
        Assert.Equal(1001, envelope.Length);
        Assert.All(envelope, e => Assert.Equal(0, e));
    }

    [Theory]
    [InlineData(0.09, 20, 0.11672)] // lr h 1.8: the double root 1 - sqrt(1.8) is negative, y flips sign every step
    [InlineData(0.2, 200, null)] // lr h 40: no momentum below 1 is critical, every one diverges
    public async Task Past_lr_h_1_the_critical_root_is_negative_and_from_4_there_is_no_critical_momentum(double lr, double h, double? critical)
    {
        var y = (await Get($"api/bowl?lr={lr.ToString(CultureInfo.InvariantCulture)}&s={(h / 2).ToString(CultureInfo.InvariantCulture)}&iterations=5")).GetProperty("directions")[1];
        Assert.Equal(1 - Math.Sqrt(lr * h), y.GetProperty("critical_root").GetDouble(), 12);
        if (critical is null) Assert.Equal(JsonValueKind.Null, y.GetProperty("critical_momentum").ValueKind);
        else Assert.Equal(critical.Value, y.GetProperty("critical_momentum").GetDouble(), 5);
    }

    [Fact]
    public async Task The_rate_map_s_critical_curve_is_the_double_root_of_A()
    {
        var critical = (await Get("api/ratemap?s=10")).GetProperty("critical");
        double[] steps = Numbers(critical.GetProperty("lr_h")), momenta = Numbers(critical.GetProperty("momentum"));
        Assert.Equal(0, steps[0]);
        Assert.Equal(4, steps[^1]);
        for (int i = 0; i < steps.Length; i++)
        {
            // On the curve the discriminant (1 - lr h + m)^2 - 4m of A's eigenvalues is 0: one double root.
            double a = 1 - steps[i] + momenta[i];
            Assert.Equal(0, a * a - 4 * momenta[i], 12);
        }
    }

    [Theory]
    [InlineData("0.05", "0.9", "1", "200", "300", "1")]
    [InlineData("0.1", "0", "0.5", "50", "20", "7")]
    public async Task Noisy_runs_are_NoisyMomentum_s_for_the_momentum_asked_and_plain_descent(string lr, string momentum, string sigma, string runs, string iterations, string seed)
    {
        var root = await Get($"api/noise?lr={lr}&momentum={momentum}&sigma={sigma}&runs={runs}&iterations={iterations}&seed={seed}");
        double a = double.Parse(lr, CultureInfo.InvariantCulture), m = double.Parse(momentum, CultureInfo.InvariantCulture), s = double.Parse(sigma, CultureInfo.InvariantCulture);
        var methods = root.GetProperty("methods").EnumerateArray().ToList();
        Assert.Equal(m == 0 ? ["gradient descent"] : ["gradient descent", "momentum"], methods.Select(x => x.GetProperty("name").GetString()));
        foreach (var method in methods)
        {
            double mu = method.GetProperty("momentum").GetDouble();
            var expected = NoisyMomentum.Simulate(a, mu, NoisyMomentum.DefaultCurvature, s, NoisyMomentum.DefaultStart, int.Parse(runs, CultureInfo.InvariantCulture),
                int.Parse(iterations, CultureInfo.InvariantCulture), long.Parse(seed, CultureInfo.InvariantCulture));
            Assert.Equal(expected.MeanF, Numbers(method.GetProperty("mean")));
            Assert.Equal(expected.LowF, Numbers(method.GetProperty("low")));
            Assert.Equal(expected.HighF, Numbers(method.GetProperty("high")));
            Assert.Equal(NoisyMomentum.StationaryF(a, mu, NoisyMomentum.DefaultCurvature, s), method.GetProperty("floor").GetDouble());
        }
    }

    [Fact]
    public async Task Another_seed_draws_other_runs_and_the_same_seed_the_same()
    {
        string Mean(JsonElement root) => root.GetProperty("methods")[1].GetProperty("mean").GetRawText();
        string first = Mean(await Get("api/noise?seed=1")), again = Mean(await Get("api/noise?seed=1")), other = Mean(await Get("api/noise?seed=2"));
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task Past_gradient_weights_are_measured_for_the_momentum_asked_and_the_velocity_command_s()
    {
        var root = await Get("api/velocity?lr=0.07&momentum=0.6&steps=30");
        Assert.Equal(Enumerable.Range(0, 30).Select(k => (double)k), Numbers(root.GetProperty("k")));
        var momenta = root.GetProperty("momenta").EnumerateArray().ToList();
        Assert.Equal(ConstantGradientVelocity.ComparedMomenta(0.6), momenta.Select(m => m.GetProperty("momentum").GetDouble()));
        foreach (var m in momenta)
        {
            double mu = m.GetProperty("momentum").GetDouble();
            Assert.Equal(ConstantGradientVelocity.PastGradientWeights(0.07, mu, 30), Numbers(m.GetProperty("weights")));
            Assert.Equal(0.07 / (1 - mu), m.GetProperty("sum").GetDouble(), 12);
        }
    }

    [Theory]
    [InlineData(2, 32, "sgd,momentum,handwritten", 64)] // a fit every step
    [InlineData(3, 7, "sgd,adam", 429)] // every 5 steps, and one more after the last (429 = 5 * 85 + 4)
    public async Task A_training_streams_its_data_then_the_nets_predictions_at_most_a_hundred_times_and_after_its_last_step(int epochs, int batchSize, string contestants, int steps)
    {
        string query = $"epochs={epochs}&batch-size={batchSize}&contestants={contestants}";
        using var response = await client.GetAsync($"api/train?{query}", HttpCompletionOption.ResponseHeadersRead);
        var events = await SseEvents.ReadAllAsync(response);
        Assert.Equal("data", events[0].Type);
        var fits = events.Where(e => e.Type == "fit").Select(e => e.Data).ToList();
        // Before the first step, after every ceil(steps / 100) steps, and after the last.
        int every = (steps + TrainApi.MostFits - 1) / TrainApi.MostFits;
        var expected = new[] { -1 }.Concat(Enumerable.Range(1, steps / every).Select(k => k * every - 1)).Append(steps - 1).Distinct();
        Assert.Equal(expected, fits.Select(f => f.GetProperty("step").GetInt32()));
        Assert.InRange(fits.Count, 2, TrainApi.MostFits + 2);

        // The same run trained here: its data, its first predictions and its last are what was sent.
        using var run = new ChapterRun(new ExperimentSettings { Epochs = epochs, BatchSize = batchSize, Contestants = contestants }, CPU);
        var before = run.Fit(TrainApi.FitPoints);
        var data = events[0].Data;
        Assert.Equal(before.DataX, Numbers(data.GetProperty("x")));
        Assert.Equal(before.DataY, Numbers(data.GetProperty("y")));
        Assert.Equal(before.GridX, Numbers(data.GetProperty("grid")));
        Assert.Equal(before.GridX.Select(x => x * x), Numbers(data.GetProperty("curve")));
        Assert.Equal(steps, run.Train().Count());
        var after = run.Fit(TrainApi.FitPoints);
        for (int i = 0; i < run.Names.Count; i++)
        {
            Assert.Equal(before.Predictions[i], Numbers(fits[0].GetProperty(run.Names[i])));
            Assert.Equal(after.Predictions[i], Numbers(fits[^1].GetProperty(run.Names[i])));
        }
        Assert.NotEqual(before.Predictions[0], after.Predictions[0]);
    }
}
