using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using TorchMomentum.Cli.Explore;

namespace TorchMomentum.Tests;

/// <summary>
/// The explore page in a real browser: Debian's chromium, headless, driven by Playwright (nothing downloaded).
/// Each test saves a screenshot of its view, into $TORCHMOMENTUM_SCREENSHOTS when set (the README's images:
/// <c>TORCHMOMENTUM_SCREENSHOTS=$PWD/docs dotnet test --filter-trait Category=Browser</c>).
/// </summary>
[Trait("Category", Trait)]
public sealed class ExploreBrowserTests : IAsyncLifetime
{
    public const string Trait = "Browser";
    private const string Chromium = "/usr/bin/chromium";
    private readonly TemporaryFolder temporary = new();
    private ExploreServer? server;
    private IPlaywright? playwright;
    private IBrowser? browser;
    private IPage page = null!;
    private string? missing;
    private readonly HttpClient client = new();

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            missing = $"needs Debian's chromium at {Chromium} (apt-get install chromium)";
            return;
        }
        playwright = await Playwright.CreateAsync();
        try
        {
            // As root (CI) chromium needs --no-sandbox; the rest keeps it off a network it cannot reach.
            browser = await playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = Chromium,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            });
        }
        catch (PlaywrightException e)
        {
            missing = $"{Chromium} does not start (apt-get install chromium): {e.Message.Split('\n')[0]}";
            return;
        }
        server = await ExploreServer.StartAsync(IPAddress.Loopback, 0, maxTrainings: 2);
        client.BaseAddress = new Uri(server.Url);
        page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1250, Height = 1000 } });
        await page.GotoAsync(server.Url);
        await WaitFor("() => state.paths !== null && document.querySelectorAll('#directions tbody tr').length === 4");
    }

    public async ValueTask DisposeAsync()
    {
        if (browser is not null) await browser.DisposeAsync();
        playwright?.Dispose();
        if (server is not null) await server.DisposeAsync();
        client.Dispose();
        temporary.Dispose();
    }

    private void SkipWithoutBrowser() => Assert.SkipWhen(missing is not null, missing ?? "");

    private async Task WaitFor(string condition)
    {
        try
        {
            await page.WaitForFunctionAsync(condition, null, new() { Timeout = 30_000 });
        }
        catch (TimeoutException)
        {
            string now = await page.EvaluateAsync<string>("() => JSON.stringify({ lr: state.lr, momentum: state.momentum, start: state.start, shown: state.shown })");
            Assert.Fail($"timed out waiting for {condition}; the page's state: {now}");
        }
    }

    private async Task Screenshot(string name)
    {
        string folder = Environment.GetEnvironmentVariable("TORCHMOMENTUM_SCREENSHOTS") is { Length: > 0 } docs ? docs : temporary.Path;
        Directory.CreateDirectory(folder);
        string file = Path.Combine(folder, $"explore-{name}.png");
        await page.ScreenshotAsync(new() { Path = file, FullPage = true });
        Assert.True(new FileInfo(file).Length > 10_000, $"{file} is too small to show the page");
    }

    /// <summary>Waits until the drawn paths are those of the settings the controls show (a slider sends many requests).</summary>
    private Task WaitForPathsOfTheShownSettings() => WaitFor(
        "() => state.drawnFor === JSON.stringify({ lr: state.lr, x: state.start.x, y: state.start.y, iterations: state.iterations, s: state.s, momentum: state.momentum })");

    /// <summary>The momentum path as drawn: the x and y of the page's "momentum" trace on the contours.</summary>
    private async Task<double[][]> DrawnMomentumPath() =>
        await page.EvaluateAsync<double[][]>("() => { const t = document.getElementById('bowl').data.find(t => t.name === 'momentum'); return [Array.from(t.x), Array.from(t.y)]; }");

    /// <summary>The same path from the API, for the settings the page shows.</summary>
    private async Task<double[][]> ApiMomentumPath()
    {
        string query = await page.EvaluateAsync<string>(
            "() => new URLSearchParams({ lr: state.lr, momentum: state.momentum, x: state.start.x, y: state.start.y, iterations: state.iterations, s: state.s }).toString()");
        using var json = JsonDocument.Parse(await client.GetStringAsync($"api/bowl?{query}"));
        var points = json.RootElement.GetProperty("points").EnumerateArray().ToList();
        return [points.Select(p => p.GetProperty("x").GetDouble()).ToArray(), points.Select(p => p.GetProperty("y").GetDouble()).ToArray()];
    }

    private async Task DragSlider(string id, double fraction)
    {
        var box = (await page.Locator($"#{id}").BoundingBoxAsync())!;
        double value = double.Parse(await page.InputValueAsync($"#{id}"), CultureInfo.InvariantCulture);
        double min = double.Parse((await page.GetAttributeAsync($"#{id}", "min"))!, CultureInfo.InvariantCulture);
        double max = double.Parse((await page.GetAttributeAsync($"#{id}", "max"))!, CultureInfo.InvariantCulture);
        float y = box.Y + box.Height / 2;
        await page.Mouse.MoveAsync(box.X + (float)(box.Width * (value - min) / (max - min)), y);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + (float)(box.Width * fraction), y, new() { Steps = 8 });
        await page.Mouse.UpAsync();
    }

    [Fact]
    public async Task Dragging_the_momentum_slider_redraws_the_path_the_api_computes()
    {
        SkipWithoutBrowser();
        var before = await DrawnMomentumPath();
        Assert.Equal(await ApiMomentumPath(), before);

        await DragSlider("momentum", 0.9);
        await WaitFor("() => state.momentum > 0.8");
        await WaitForPathsOfTheShownSettings();
        var after = await DrawnMomentumPath();
        Assert.NotEqual(before, after);
        Assert.Equal(await ApiMomentumPath(), after);
        Assert.Equal(await page.InputValueAsync("#momentum"), await page.TextContentAsync("#momentum-value"));
        await Screenshot("bowl");
    }

    [Fact]
    public async Task Dragging_on_the_contours_moves_the_start_point()
    {
        SkipWithoutBrowser();
        var box = (await page.Locator("#bowl .nsewdrag").First.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + box.Width * 0.8f, box.Y + box.Height * 0.2f);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + box.Width * 0.75f, box.Y + box.Height * 0.25f, new() { Steps = 5 });
        await page.Mouse.UpAsync();
        await WaitFor("() => state.start.x > 5 && state.start.y > 0.5");
        await WaitForPathsOfTheShownSettings();
        Assert.Equal(await ApiMomentumPath(), await DrawnMomentumPath());
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
        await WaitFor("() => state.shown >= 10");
        await page.ClickAsync("#play");
        int paused = await page.EvaluateAsync<int>("() => state.shown");
        Assert.Equal(paused + 1, (await DrawnMomentumPath())[0].Length);
    }

    [Fact]
    public async Task Clicking_the_rate_map_sets_the_learning_rate_and_momentum()
    {
        SkipWithoutBrowser();
        await page.ClickAsync("button[data-view=ratemap]");
        await WaitFor(@"() => { const plot = document.getElementById('ratemap'), size = plot._fullLayout?._size;
            return state.rateMap !== null && plot.data.length === 4 && size.l + size.w + size.r === plot.clientWidth; }");
        var box = (await page.Locator("#ratemap .nsewdrag").First.BoundingBoxAsync())!;
        float clickX = box.X + box.Width * 0.25f, clickY = box.Y + box.Height * 0.5f;
        await page.Mouse.ClickAsync(clickX, clickY);
        await WaitFor("() => state.momentum !== 0.6");
        Assert.Equal(await page.EvaluateAsync<string>("() => String(state.lr)"), await page.InputValueAsync("#lr"));
        Assert.Equal(await page.EvaluateAsync<string>("() => String(state.momentum)"), await page.InputValueAsync("#momentum"));
        // The steep direction's "now" marker (h = 2s) sits where the click was, to the rounding of lr and momentum.
        double[] marker = await page.EvaluateAsync<double[]>(@"() => {
            const plot = document.getElementById('ratemap'), layout = plot._fullLayout, rect = plot.getBoundingClientRect();
            const now = plot.data[2];
            return [rect.left + layout._size.l + layout.xaxis.d2p(now.x[1]), rect.top + layout._size.t + layout.yaxis.d2p(now.y[1])];
        }");
        Assert.InRange(marker[0], clickX - 3, clickX + 3);
        Assert.InRange(marker[1], clickY - 5, clickY + 5);
        await Screenshot("ratemap");
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
        Assert.Equal(1, server!.Trainings.InUse);
        await page.ClickAsync("#train-stop");
        Assert.Equal("stopped", await page.TextContentAsync("#train-status"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (server.Trainings.InUse > 0 && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(20);
        Assert.Equal(0, server.Trainings.InUse);
        int stopped = await page.EvaluateAsync<int>("() => document.getElementById('train').data[0].x.length");
        await Task.Delay(500);
        Assert.Equal(stopped, await page.EvaluateAsync<int>("() => document.getElementById('train').data[0].x.length"));
        Assert.True(stopped < 100 * 1000, "the training ran to its end instead of stopping");
    }

    [Fact]
    public async Task A_training_started_on_the_page_grows_its_curves_to_the_last_step()
    {
        SkipWithoutBrowser();
        await page.ClickAsync("button[data-view=train]");
        await page.ClickAsync("#train-chapter");
        // The chapter's settings for 60 epochs: long enough (1,920 steps) to watch the curves grow.
        await page.FillAsync("#train-epochs", "60");
        await page.ClickAsync("#train-start");
        await WaitFor("() => document.getElementById('train').data?.[0]?.x.length > 0");
        int early = await page.EvaluateAsync<int>("() => document.getElementById('train').data[0].x.length");
        await WaitFor("() => document.getElementById('train-status').textContent.startsWith('done')");
        Assert.Equal("done: 1920 steps", await page.TextContentAsync("#train-status"));
        int[] lengths = await page.EvaluateAsync<int[]>("() => document.getElementById('train').data.map(t => t.x.length)");
        Assert.Equal([1920, 1920, 1920], lengths);
        Assert.True(early < 1920, $"the curve appeared whole ({early} steps) instead of growing");
        await Screenshot("train");
    }
}
