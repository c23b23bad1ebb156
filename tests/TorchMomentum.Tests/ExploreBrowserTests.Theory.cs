using System.Globalization;
using System.Text.Json;
using TorchMomentum.Cli.Explore;
using TorchMomentum.Theory;

namespace TorchMomentum.Tests;

/// <summary>
/// The explore page's pictures of the theory, in the browser (see the other parts of this class): the error per
/// eigen-direction and critical damping on the Bowl view, the Velocity view and the Noise view.
/// </summary>
public sealed partial class ExploreBrowserTests
{
    private async Task<double> InputNumber(string id) => double.Parse(await page.InputValueAsync($"#{id}"), CultureInfo.InvariantCulture);

    /// <summary>A plot's trace's y by its name, a gap (null) read as 0.</summary>
    private Task<double[]> TraceY(string plot, string name) => page.EvaluateAsync<double[]>(
        $"() => Array.from(document.getElementById('{plot}').data.find(t => t.name === {JsonSerializer.Serialize(name)}).y, v => v ?? 0)");

    [Fact]
    public async Task The_error_plot_splits_each_path_by_direction_beside_the_servers_envelopes_and_marks_critical_damping()
    {
        SkipWithoutBrowser();
        using var answer = JsonDocument.Parse(await client.GetStringAsync((await page.GetAttributeAsync("#bowl-json", "href"))!));
        var points = answer.RootElement.GetProperty("points").EnumerateArray().ToList();
        var directions = answer.RootElement.GetProperty("directions").EnumerateArray().ToList();
        foreach (var direction in directions)
        {
            string axis = direction.GetProperty("axis").GetString()!;
            Assert.Equal(points.Select(p => Math.Abs(p.GetProperty(axis).GetDouble())), await TraceY("bowl-errors", $"momentum, |{axis}_t|"));
            // The envelope drawn is the server's, next to the momentum path of its direction.
            double[] envelope = await page.EvaluateAsync<double[]>($@"() => Array.from(document.getElementById('bowl-errors').data
                .filter(t => t.legendgroup === 'momentum-{axis}')[1].y, v => v ?? 0)");
            Assert.Equal(direction.GetProperty("envelope").EnumerateArray().Select(e => e.GetDouble()), envelope);
        }

        // The momentum slider's marks are each direction's critical damping at the slider's lr.
        double lr = await InputNumber("lr");
        double[] marks = await page.EvaluateAsync<double[]>("() => [...document.querySelectorAll('#critical-marks i')].map(i => Number(i.dataset.value))");
        Assert.Equal([HeavyBall.CriticalMomentum(2, lr), HeavyBall.CriticalMomentum(20, lr)], marks);
        // Each tick is drawn under the slider where its momentum is, to a few pixels (the thumb's width).
        var slider = (await page.Locator("#momentum").BoundingBoxAsync())!;
        double max = await Attribute("#momentum", "max");
        for (int i = 0; i < 2; i++)
        {
            var tick = (await page.Locator("#critical-marks i").Nth(i).BoundingBoxAsync())!;
            Assert.InRange(tick.X + tick.Width / 2 - (slider.X + slider.Width * marks[i] / max), -10, 10);
            Assert.InRange(tick.Y - (slider.Y + slider.Height), -2, 12);
        }

        // "critically damped" sets the momentum to the flat direction's, to the slider's step, and x then creeps in:
        // its error never changes sign, so |x_t| only falls.
        await page.ClickAsync("#preset-critical");
        await WaitForPathsOfTheShownSettings();
        Assert.Equal(Math.Round(HeavyBall.CriticalMomentum(2, lr), 3), await InputNumber("momentum"), 12);
        var path = await DrawnMomentumPath();
        Assert.All(path[0].Zip(path[0].Skip(1)), pair => Assert.True(Math.Abs(pair.Second) <= Math.Abs(pair.First), $"|x| rose from {pair.First} to {pair.Second}"));
        AssertNoPageErrors();
        await Screenshot("errors");
    }

    [Fact]
    public async Task The_velocity_view_draws_the_weights_measured_for_the_sliders_momentum()
    {
        SkipWithoutBrowser();
        await page.ClickAsync("button[data-view=velocity]");
        // The bowl's own controls are not the velocity's.
        Assert.True(await page.IsHiddenAsync("#s-control"));
        Assert.True(await page.IsHiddenAsync("#critical-marks"));
        Assert.True(await page.IsHiddenAsync("#preset-critical"));
        await DragSlider("momentum", 0.95);
        await WaitFor(@"() => { const plot = document.getElementById('velocity'), m = document.getElementById('momentum').value;
            return !plot.hasAttribute('aria-busy') && plot.data?.some(t => t.name.startsWith(`momentum ${Number(m)} (slider)`)); }");
        double lr = await InputNumber("lr"), momentum = await InputNumber("momentum");
        string name = await page.EvaluateAsync<string>("() => document.getElementById('velocity').data.find(t => t.name.includes('(slider)')).name");
        Assert.Equal(ConstantGradientVelocity.PastGradientWeights(lr, momentum, 60), await TraceY("velocity", name));
        Assert.EndsWith($"= {ConstantGradientVelocity.Limit(lr, momentum, 1).ToString("G3", CultureInfo.InvariantCulture)}", name);
        string[] others = await page.EvaluateAsync<string[]>("() => document.getElementById('velocity').data.map(t => t.name.split(':')[0])");
        Assert.Equal(ConstantGradientVelocity.ComparedMomenta(momentum).Select(m => $"momentum {m.ToString(CultureInfo.InvariantCulture)}" + (m == momentum ? " (slider)" : "")), others);
        Assert.StartsWith($"With momentum {momentum.ToString(CultureInfo.InvariantCulture)}, today's gradient counts", await page.TextContentAsync("#velocity-summary"));
        Assert.True(await page.IsHiddenAsync("#error"));
        AssertNoPageErrors();
        await Screenshot("velocity");
    }

    [Fact]
    public async Task The_noise_view_draws_the_seeded_runs_and_the_floor_they_settle_at()
    {
        SkipWithoutBrowser();
        await page.ClickAsync("button[data-view=noise]");
        await page.ClickAsync("#preset-chapter"); // lr 0.05, momentum 0.6
        await DragSlider("sigma", 0.5);
        const string drawnForTheSlider = @"() => { const plot = document.getElementById('noise'), sigma = document.getElementById('sigma').value,
            seed = document.getElementById('noise-seed').value;
            return !plot.hasAttribute('aria-busy') && plot.layout?.title.text.includes(`sigma ${sigma},`) && plot.dataset.seed === seed; }";
        await WaitFor(drawnForTheSlider);
        double lr = await InputNumber("lr"), momentum = await InputNumber("momentum"), sigma = await InputNumber("sigma");
        int runs = (int)await InputNumber("noise-runs"), seed = (int)await InputNumber("noise-seed");
        Assert.Equal(0.05, lr);
        Assert.NotEqual(1, sigma); // the slider moved
        foreach (var (m, label) in new[] { (momentum, $"momentum {momentum.ToString(CultureInfo.InvariantCulture)}"), (0.0, "gradient descent") })
        {
            var expected = NoisyMomentum.Simulate(lr, m, NoisyMomentum.DefaultCurvature, sigma, NoisyMomentum.DefaultStart, runs, (int)ApiLimits.Noise.Iterations.Default, seed);
            Assert.Equal(expected.MeanF, await TraceY("noise", $"{label}: mean f"));
        }
        double[] floors = await page.EvaluateAsync<double[]>("() => document.getElementById('noise').layout.shapes.map(s => s.y0)");
        Assert.Equal([NoisyMomentum.StationaryF(lr, 0, 1, sigma), NoisyMomentum.StationaryF(lr, momentum, 1, sigma)], floors);
        Assert.StartsWith($"Momentum {momentum.ToString(CultureInfo.InvariantCulture)} settles at f ≈", await page.TextContentAsync("#noise-summary"));
        await Screenshot("noise");

        // Another seed, other runs; the same floor.
        double[] before = await TraceY("noise", $"momentum {momentum.ToString(CultureInfo.InvariantCulture)}: mean f");
        await page.FillAsync("#noise-seed", "2");
        await WaitFor(drawnForTheSlider);
        Assert.NotEqual(before, await TraceY("noise", $"momentum {momentum.ToString(CultureInfo.InvariantCulture)}: mean f"));
        Assert.Equal(floors, await page.EvaluateAsync<double[]>("() => document.getElementById('noise').layout.shapes.map(s => s.y0)"));
        Assert.True(await page.IsHiddenAsync("#error"));
        AssertNoPageErrors();
    }
}
