using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using TorchMomentum.Cli.Explore;

namespace TorchMomentum.Tests;

/// <summary>
/// The explore page in a real browser: Debian's chromium, headless, driven by Playwright (nothing downloaded).
/// The tests read what the page shows (its inputs, texts, the plots' data and their drawn points), never the
/// script's own variables, which a module keeps to itself. Each test saves a screenshot of its view, into $TORCHMOMENTUM_SCREENSHOTS when set (the README's images:
/// <c>TORCHMOMENTUM_SCREENSHOTS=$PWD/docs dotnet test --filter-trait Category=Browser</c>).
/// </summary>
[Trait("Category", Trait)]
[Trait("Category", "Slow")]
public sealed partial class ExploreBrowserTests : IAsyncLifetime, IClassFixture<HeadlessChromium>
{
    public const string Trait = "Browser";
    private readonly TemporaryFolder temporary = new();
    private readonly HeadlessChromium chromium;
    private ExploreServer? server;
    private IBrowserContext? context;
    private IPage page = null!;
    private string? missing;
    private readonly HttpClient client = new();
    // Uncaught errors of the page's scripts, unhandled promise rejections among them.
    private readonly List<string> pageErrors = [];

    public ExploreBrowserTests(HeadlessChromium chromium) => this.chromium = chromium;

    public async ValueTask InitializeAsync()
    {
        if (chromium.Missing is not null)
        {
            missing = chromium.Missing;
            return;
        }
        // One training at a time: a second is refused with 429, which shows whether the first still runs.
        server = await ExploreServer.StartAsync(IPAddress.Loopback, 0, maxTrainings: 1);
        client.BaseAddress = new Uri(server.Url);
        // A context of its own per test (no cookies, storage or cache from another), in the one browser the class shares.
        context = await chromium.Browser!.NewContextAsync(new() { ViewportSize = new() { Width = 1250, Height = 1000 } });
        page = await context.NewPageAsync();
        page.PageError += (_, error) => { lock (pageErrors) pageErrors.Add(error); };
        await page.GotoAsync(server.Url);
        await WaitFor("() => document.querySelectorAll('#directions tbody tr').length === 4 && !document.getElementById('bowl').hasAttribute('aria-busy')");
    }

    public async ValueTask DisposeAsync()
    {
        if (context is not null) await context.DisposeAsync();
        if (server is not null) await server.DisposeAsync();
        client.Dispose();
        temporary.Dispose();
    }

    private void SkipWithoutBrowser() => Assert.SkipWhen(missing is not null, missing ?? "");

    // What the page shows, for a timeout's message.
    private const string Shown = @"() => JSON.stringify({
        controls: ['lr', 'momentum', 's', 'iterations'].map(id => document.getElementById(id).value),
        drawn: document.getElementById('bowl-json').getAttribute('href'), iteration: document.getElementById('iteration-now').textContent,
        error: document.getElementById('error').textContent, train: document.getElementById('train-status').textContent,
        sweep: document.getElementById('sweep-status').textContent })";

    private async Task WaitFor(string condition)
    {
        try
        {
            await page.WaitForFunctionAsync(condition, null, new() { Timeout = 30_000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"timed out waiting for {condition}; the page shows: {await page.EvaluateAsync<string>(Shown)}");
        }
    }

    private void AssertNoPageErrors()
    {
        lock (pageErrors) Assert.True(pageErrors.Count == 0, $"the page's scripts failed: {string.Join("; ", pageErrors)}");
    }

    private async Task Screenshot(string name)
    {
        string folder = Environment.GetEnvironmentVariable("TORCHMOMENTUM_SCREENSHOTS") is { Length: > 0 } docs ? docs : temporary.Path;
        Directory.CreateDirectory(folder);
        string file = Path.Combine(folder, $"explore-{name}.png");
        await page.ScreenshotAsync(new() { Path = file, FullPage = true });
        Assert.True(new FileInfo(file).Length > 10_000, $"{file} is too small to show the page");
    }

    /// <summary>
    /// Waits until the paths drawn are those of the settings the controls show (a slider sends many requests):
    /// #bowl no longer busy, and its numbers' link (#bowl-json) for the sliders' values.
    /// </summary>
    private Task WaitForPathsOfTheShownSettings() => WaitFor(@"() => {
        const drawn = new URL(document.getElementById('bowl-json').href).searchParams;
        return !document.getElementById('bowl').hasAttribute('aria-busy')
            && ['lr', 'momentum', 's', 'iterations'].every(id => drawn.get(id) === document.getElementById(id).value); }");

    /// <summary>The momentum path as drawn: the x and y of the page's "momentum" trace on the contours.</summary>
    private async Task<double[][]> DrawnMomentumPath() =>
        await page.EvaluateAsync<double[][]>("() => { const t = document.getElementById('bowl').data.find(t => t.name === 'momentum'); return [Array.from(t.x), Array.from(t.y)]; }");

    /// <summary>The start point of the path drawn, from its numbers' link.</summary>
    private async Task<double[]> DrawnStart() =>
        await page.EvaluateAsync<double[]>("() => { const q = new URL(document.getElementById('bowl-json').href).searchParams; return [Number(q.get('x')), Number(q.get('y'))]; }");

    /// <summary>The same path from the API, asked with the query of the page's link to the numbers drawn.</summary>
    private async Task<double[][]> ApiMomentumPath()
    {
        string href = (await page.GetAttributeAsync("#bowl-json", "href"))!;
        Assert.StartsWith("api/bowl?", href);
        using var json = JsonDocument.Parse(await client.GetStringAsync(href));
        var points = json.RootElement.GetProperty("points").EnumerateArray().ToList();
        return [points.Select(p => p.GetProperty("x").GetDouble()).ToArray(), points.Select(p => p.GetProperty("y").GetDouble()).ToArray()];
    }

    private async Task<double> Attribute(string selector, string name) =>
        double.Parse((await page.GetAttributeAsync(selector, name))!, CultureInfo.InvariantCulture);

    private async Task DragSlider(string id, double fraction)
    {
        var box = (await page.Locator($"#{id}").BoundingBoxAsync())!;
        double value = double.Parse(await page.InputValueAsync($"#{id}"), CultureInfo.InvariantCulture);
        double min = await Attribute($"#{id}", "min"), max = await Attribute($"#{id}", "max");
        float y = box.Y + box.Height / 2;
        await page.Mouse.MoveAsync(box.X + (float)(box.Width * (value - min) / (max - min)), y);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + (float)(box.Width * fraction), y, new() { Steps = 8 });
        await page.Mouse.UpAsync();
    }

    /// <summary>The "iteration N of M" the page shows, as N.</summary>
    private async Task<int> ShownIteration() =>
        int.Parse((await page.TextContentAsync("#iteration-now"))!.Split(' ')[1], CultureInfo.InvariantCulture);

    [Fact]
    public async Task Dragging_the_momentum_slider_redraws_the_path_the_api_computes()
    {
        SkipWithoutBrowser();
        var before = await DrawnMomentumPath();
        Assert.Equal(await ApiMomentumPath(), before);

        await DragSlider("momentum", 0.9);
        await WaitFor("() => Number(document.getElementById('momentum').value) > 0.8");
        await WaitForPathsOfTheShownSettings();
        var after = await DrawnMomentumPath();
        Assert.NotEqual(before, after);
        Assert.Equal(await ApiMomentumPath(), after);
        Assert.Equal(await page.InputValueAsync("#momentum"), await page.TextContentAsync("#momentum-value"));
        AssertNoPageErrors();
        await Screenshot("bowl");
    }

    [Fact]
    public async Task Dragging_on_the_contours_moves_the_start_point()
    {
        SkipWithoutBrowser();
        var box = (await page.Locator("#bowl .nsewdrag").First.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + box.Width * 0.8f, box.Y + box.Height * 0.2f);
        await page.Mouse.DownAsync();
        // Released at 3/4 across and 1/4 down the plot area: x = -12 + 24 * 0.75 = 6, y = 4 - 8 * 0.25 = 2.
        await page.Mouse.MoveAsync(box.X + box.Width * 0.75f, box.Y + box.Height * 0.25f, new() { Steps = 5 });
        await page.Mouse.UpAsync();
        await WaitFor("() => Number(new URL(document.getElementById('bowl-json').href).searchParams.get('x')) < 7");
        await WaitForPathsOfTheShownSettings();
        var start = await DrawnStart();
        Assert.InRange(start[0], 5.9, 6.1);
        Assert.InRange(start[1], 1.95, 2.05);
        Assert.Equal(await ApiMomentumPath(), await DrawnMomentumPath());
        AssertNoPageErrors();
    }

    [Fact]
    public async Task Play_rolls_the_balls_along_their_paths()
    {
        SkipWithoutBrowser();
        await page.ClickAsync("#reset");
        Assert.Equal("iteration 0 of 50", await page.TextContentAsync("#iteration-now"));
        await page.ClickAsync("#step");
        Assert.Equal("iteration 1 of 50", await page.TextContentAsync("#iteration-now"));
        await page.ClickAsync("#play");
        await WaitFor("() => Number(document.getElementById('iteration-now').textContent.split(' ')[1]) >= 10");
        await page.ClickAsync("#play");
        int paused = await ShownIteration();
        Assert.Equal(paused + 1, (await DrawnMomentumPath())[0].Length);
    }

    [Fact]
    public async Task Clicking_the_rate_map_sets_the_learning_rate_and_momentum()
    {
        SkipWithoutBrowser();
        await page.ClickAsync("button[data-view=ratemap]");
        await WaitFor("() => { const plot = document.getElementById('ratemap'); return !plot.hasAttribute('aria-busy') && plot.data?.length === 4; }");
        var box = (await page.Locator("#ratemap .nsewdrag").First.BoundingBoxAsync())!;
        float clickX = box.X + box.Width * 0.25f, clickY = box.Y + box.Height * 0.5f;
        await page.Mouse.ClickAsync(clickX, clickY);
        await WaitFor("() => document.getElementById('momentum').value !== '0.6'");
        Assert.Equal(await page.InputValueAsync("#lr"), await page.TextContentAsync("#lr-value"));
        Assert.Equal(await page.InputValueAsync("#momentum"), await page.TextContentAsync("#momentum-value"));
        // The steep direction's "now" marker (h = 2s), the second point of the first marker trace (the scatter
        // after the critical-damping curve), is drawn where the click was, to the rounding of lr and momentum.
        await WaitFor("() => document.querySelectorAll('#ratemap .scatterlayer .trace')[1]?.querySelectorAll('.point').length === 2");
        var marker = (await page.Locator("#ratemap .scatterlayer .trace").Nth(1).Locator(".point").Nth(1).BoundingBoxAsync())!;
        Assert.InRange(marker.X + marker.Width / 2, clickX - 3, clickX + 3);
        Assert.InRange(marker.Y + marker.Height / 2, clickY - 5, clickY + 5);
        // The critical-damping curve, drawn from the server's points: momentum (1 - sqrt(lr h))^2.
        var curve = await page.EvaluateAsync<double[][]>("() => { const t = document.getElementById('ratemap').data[1]; return [Array.from(t.x), Array.from(t.y)]; }");
        Assert.Equal(curve[0].Select(a => TorchMomentum.Theory.HeavyBall.CriticalMomentum(1, a)), curve[1]);
        AssertNoPageErrors();
        await Screenshot("ratemap");
    }

    [Fact]
    public async Task The_inputs_allow_what_the_api_allows()
    {
        SkipWithoutBrowser();
        using var json = JsonDocument.Parse(await client.GetStringAsync("api/limits"));
        var limits = json.RootElement;
        double Limit(string endpoint, string name, string bound) => limits.GetProperty(endpoint).GetProperty(name).GetProperty(bound).GetDouble();
        Assert.Equal(Limit("bowl", "iterations", "max"), await Attribute("#iterations", "max"));
        Assert.Equal(Limit("bowl", "iterations", "min"), await Attribute("#iterations", "min"));
        Assert.Equal(Limit("bowl", "momentum", "max"), await Attribute("#momentum", "max"));
        Assert.Equal(Limit("bowl", "s", "max"), await Attribute("#s", "max"));
        Assert.Equal(Limit("train", "epochs", "max"), await Attribute("#train-epochs", "max"));
        Assert.Equal(Limit("train", "seed", "max"), await Attribute("#train-seed", "max"));
        Assert.Equal(Limit("sweep", "epochs", "max"), await Attribute("#sweep-epochs", "max"));
        Assert.Equal(Limit("sweep", "lr-count", "max"), await Attribute("#sweep-lr-count", "max"));
        Assert.Equal(Limit("sweep", "lr-max", "default"), await Attribute("#sweep-lr-min", "max"));
        // An open bound stops a step inside; a bound by another parameter stops at that one's default.
        Assert.Equal(Limit("train", "momentum", "max") - 0.01, await Attribute("#train-momentum", "max"), 12);
        Assert.Equal(Limit("train", "samples", "default"), await Attribute("#train-batch-size", "max"));
        // The page may narrow the learning rate's slider, never widen it.
        Assert.InRange(await Attribute("#lr", "max"), 0.01, Limit("bowl", "lr", "max"));
        Assert.True(await Attribute("#lr", "min") >= Limit("bowl", "lr", "min"));
        // The last step of the iterations slider is a path the server computes.
        await page.EvalOnSelectorAsync("#iterations", "input => { input.value = input.max; input.dispatchEvent(new Event('input')); }");
        await WaitForPathsOfTheShownSettings();
        Assert.Equal($"iteration 1000 of 1000", await page.TextContentAsync("#iteration-now"));
        Assert.True(await page.IsHiddenAsync("#error"));
        AssertNoPageErrors();
    }

    [Fact]
    public async Task A_request_the_server_does_not_answer_is_said_on_the_page()
    {
        SkipWithoutBrowser();
        Assert.True(await page.IsHiddenAsync("#error"));
        // The server stops (Ctrl+C on explore) and the page is still open: moving a slider asks it again.
        await server!.DisposeAsync();
        server = null;
        await DragSlider("momentum", 0.2);
        await WaitFor("() => !document.getElementById('error').hidden");
        Assert.Equal("alert", await page.GetAttributeAsync("#error", "role"));
        Assert.StartsWith("The paths could not be computed: the server did not answer api/bowl", await page.TextContentAsync("#error"));
        Assert.True(await page.IsVisibleAsync("#error"));
        AssertNoPageErrors();
    }

    [Fact]
    public async Task A_refused_training_is_said_on_the_page_and_a_later_success_clears_it()
    {
        SkipWithoutBrowser();
        // The server's one training slot taken by another client: the page's is refused with HTTP 429.
        var other = await client.GetAsync("api/train?epochs=100", HttpCompletionOption.ResponseHeadersRead);
        await page.ClickAsync("button[data-view=train]");
        await page.ClickAsync("#train-start");
        await WaitFor("() => !document.getElementById('error').hidden");
        Assert.Equal("The training failed: refused: the server is already running 1 trainings, its most at once; try again when one ends",
            await page.TextContentAsync("#error"));
        Assert.StartsWith("refused: ", await page.TextContentAsync("#train-status"));

        other.Dispose();
        await WaitForTrainingSlotFree();
        await page.FillAsync("#train-epochs", "1");
        await page.ClickAsync("#train-start");
        await WaitFor("() => document.getElementById('train-status').textContent.startsWith('done')");
        Assert.True(await page.IsHiddenAsync("#error"));
        AssertNoPageErrors();
    }

    /// <summary>Whether the server runs a training now: it refuses another with 429 while it does (one slot).</summary>
    private async Task<bool> ServerIsTraining()
    {
        using var response = await client.GetAsync("api/train?epochs=1&samples=1");
        await response.Content.ReadAsStringAsync();
        return response.StatusCode == HttpStatusCode.TooManyRequests;
    }

    private async Task WaitForTrainingSlotFree()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await ServerIsTraining())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the server still runs a training 20 s after it was stopped");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Stop_ends_the_training_on_the_server_and_the_curves_stop_growing()
    {
        SkipWithoutBrowser();
        await page.ClickAsync("button[data-view=train]");
        await page.FillAsync("#train-epochs", "100");
        await page.FillAsync("#train-batch-size", "1");
        await page.ClickAsync("#train-start");
        await WaitFor("() => document.getElementById('train').data?.[0]?.x.length > 100");
        Assert.True(await ServerIsTraining());
        await page.ClickAsync("#train-stop");
        Assert.Equal("stopped", await page.TextContentAsync("#train-status"));
        await WaitForTrainingSlotFree();
        int stopped = await page.EvaluateAsync<int>("() => document.getElementById('train').data[0].x.length");
        await Task.Delay(500);
        Assert.Equal(stopped, await page.EvaluateAsync<int>("() => document.getElementById('train').data[0].x.length"));
        Assert.True(await page.IsHiddenAsync("#error"));
        AssertNoPageErrors();
    }

    [Fact]
    public async Task The_contestant_picker_races_the_chosen_nets_in_their_colours()
    {
        SkipWithoutBrowser();
        await page.ClickAsync("button[data-view=train]");
        string[] offered = await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#train-contestants input')].map(b => b.value)");
        Assert.Equal(TorchMomentum.Training.ContestantNames.All, offered);
        Assert.Equal(["sgd", "momentum", "handwritten"], await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#train-contestants input:checked')].map(b => b.value)"));
        await page.CheckAsync("#train-contestants input[value=rmsprop]");
        await page.CheckAsync("#train-contestants input[value=adam]");
        await page.CheckAsync("#train-contestants input[value=sgd-effective]");
        await page.UncheckAsync("#train-contestants input[value=handwritten]");
        await page.ClickAsync("#train-chapter");
        await page.FillAsync("#train-epochs", "2");
        await page.ClickAsync("#train-start");
        await WaitFor("() => document.getElementById('train-status').textContent.startsWith('done')");
        Assert.Equal("done: 64 steps", await page.TextContentAsync("#train-status"));
        var traces = await page.EvaluateAsync<string[][]>("() => document.getElementById('train').data.map(t => [t.name, t.line.color, String(t.x.length)])");
        Assert.Equal(["sgd", "momentum", "rmsprop", "adam", "sgd-effective"], traces.Select(t => t[0]));
        Assert.All(traces, t => Assert.Equal(TorchMomentum.Training.ContestantKinds.Of(t[0]).Color, t[1]));
        Assert.All(traces, t => Assert.Equal("64", t[2]));
        // The same losses as train with that list: the page shows the server's numbers, unchanged.
        using var run = new TorchMomentum.Training.ChapterRun(new TorchMomentum.Training.ExperimentSettings { Epochs = 2, Contestants = "sgd,momentum,rmsprop,adam,sgd-effective" }, TorchSharp.torch.CPU);
        var last = run.Train().Last().Losses;
        double[] shown = await page.EvaluateAsync<double[]>("() => document.getElementById('train').data.map(t => t.y[t.y.length - 1])");
        Assert.Equal(last, shown);
        // The noise floor, drawn from the server's number.
        Assert.Equal(TorchMomentum.Data.ChapterData.NoiseFloor(0.1), await page.EvaluateAsync<double>("() => document.getElementById('train').layout.shapes[0].y0"));
        Assert.StartsWith("noise floor 0.01", await page.EvaluateAsync<string>("() => document.getElementById('train').layout.annotations[0].text"));
        // What the nets learned: the data, and the predictions drawn last are the trained nets' on the server's grid.
        var fit = run.Fit(TrainApi.FitPoints);
        Assert.Equal(fit.DataY, await TraceY("train-fit", "data"));
        foreach (var (name, i) in run.Names.Select((name, i) => (name, i))) Assert.Equal(fit.Predictions[i], await TraceY("train-fit", name));
        Assert.Equal("what the nets predict, after step 64", await page.EvaluateAsync<string>("() => document.getElementById('train-fit').layout.title.text"));
        AssertNoPageErrors();
        await Screenshot("race");
    }

    [Fact]
    public async Task A_training_started_on_the_page_grows_its_curves_to_the_last_step()
    {
        SkipWithoutBrowser();
        await page.ClickAsync("button[data-view=train]");
        await page.ClickAsync("#train-chapter");
        // The chapter's settings for 60 epochs: long enough (1,920 steps) to watch the curves grow.
        await page.FillAsync("#train-epochs", "60");
        // The curve's length, sampled by the page itself every few ms: a warm server trains the 1,920 steps in a
        // fraction of a second, faster than a poll from here could see the curve half drawn.
        await page.EvaluateAsync(@"() => { window.trainLengths = []; window.trainSampler = setInterval(() => {
            const d = document.getElementById('train').data; if (d?.[0]) window.trainLengths.push(d[0].x.length); }, 2); }");
        await page.ClickAsync("#train-start");
        await WaitFor("() => document.getElementById('train-status').textContent.startsWith('done')");
        int early = await page.EvaluateAsync<int>("() => { clearInterval(window.trainSampler); return Math.min(...window.trainLengths.filter(n => n > 0)); }");
        Assert.Equal("done: 1920 steps", await page.TextContentAsync("#train-status"));
        int[] lengths = await page.EvaluateAsync<int[]>("() => document.getElementById('train').data.map(t => t.x.length)");
        Assert.Equal([1920, 1920, 1920], lengths);
        Assert.True(early < 1920, $"the curve appeared whole ({early} steps) instead of growing");
        // The sharpness of each net, from the start (step 0) to the last step, under plain SGD's edge 2/lr = 200.
        var sharpness = await page.EvaluateAsync<double[][]>("() => document.getElementById('train-sharpness').data.map(t => [t.x.length, t.x[0], t.x[t.x.length - 1], t.y[0]])");
        Assert.All(sharpness, t => Assert.Equal((1 + 50, 0.0, 1920.0), ((int)t[0], t[1], t[2])));
        Assert.Equal(9.93, sharpness[1][3], 0.01); // the momentum net's lambda_max at seed 1's initial weights
        Assert.Equal(200, await page.EvaluateAsync<double>("() => document.getElementById('train-sharpness').layout.shapes[0].y0"), 1e-9);
        AssertNoPageErrors();
        await Screenshot("train");
    }
}
