using System.Globalization;
using System.Net;
using System.Text.Json;

namespace TorchMomentum.Tests;

/// <summary>The explore page's Sweep view, in the browser (see the other part of this class).</summary>
public sealed partial class ExploreBrowserTests
{
    private static string R(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The query the page's sweep controls make, as its script sends it.</summary>
    private async Task<string> SweepQuery() => await page.EvaluateAsync<string>(@"() => new URLSearchParams(Object.fromEntries(
        ['lr-min', 'lr-max', 'lr-count', 'momentum-min', 'momentum-max', 'momentum-count', 'seeds', 'epochs']
            .map(id => [id, document.getElementById('sweep-' + id).value]))).toString()");

    /// <summary>A sweep from the API: its last map's losses and its cells, once the server's one slot is free.</summary>
    private async Task<(double?[][] Loss, List<JsonElement> Cells)> ApiSweep(string query)
    {
        await WaitForTrainingSlotFree();
        string[] blocks = (await client.GetStringAsync($"api/sweep?{query}")).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        JsonElement Data(string block) => JsonDocument.Parse(block[(block.IndexOf("\ndata: ", StringComparison.Ordinal) + 7)..]).RootElement;
        var map = Data(blocks.Last(b => b.StartsWith("event: map\n", StringComparison.Ordinal)));
        var done = Data(blocks.Single(b => b.StartsWith("event: done\n", StringComparison.Ordinal)));
        return (Losses(map.GetProperty("loss")), done.GetProperty("cells").EnumerateArray().ToList());
    }

    private static double?[][] Losses(JsonElement rows) => rows.EnumerateArray()
        .Select(row => row.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? (double?)null : v.GetDouble()).ToArray()).ToArray();

    private static double[] EpochLosses(JsonElement cell) => cell.GetProperty("epoch_losses").EnumerateArray().Select(v => v.GetDouble()).ToArray();

    /// <summary>Clicks the map where (lr, momentum) is drawn, read off the plot area and the axes' ranges the page set.</summary>
    private async Task ClickMap(double lr, double momentum)
    {
        var at = await page.EvaluateAsync<double[]>(@"([lr, momentum]) => {
            const plot = document.getElementById('sweep-map'), box = plot.querySelector('.nsewdrag').getBoundingClientRect();
            const [x0, x1] = plot.layout.xaxis.range, [y0, y1] = plot.layout.yaxis.range;
            return [box.left + box.width * (Math.log10(lr) - x0) / (x1 - x0), box.top + box.height * (y1 - momentum) / (y1 - y0)]; }", new[] { lr, momentum });
        await page.Mouse.ClickAsync((float)at[0], (float)at[1]);
    }

    /// <summary>The curves drawn for the clicked point, by name: their losses per epoch.</summary>
    private async Task<Dictionary<string, double[]>> DrawnCurves() =>
        (await page.EvaluateAsync<JsonElement>("() => document.getElementById('sweep-curves').data.map(t => ({ name: t.name, y: Array.from(t.y) }))"))
            .EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t.GetProperty("y").EnumerateArray().Select(v => v.GetDouble()).ToArray());

    private Task WaitForCurves(int count) => WaitFor($@"() => {{ const plot = document.getElementById('sweep-curves');
        return !plot.hasAttribute('aria-busy') && plot.data?.length === {count}; }}");

    [Fact]
    public async Task A_sweep_draws_its_map_and_a_clicked_point_shows_its_curve_beside_plain_sgds()
    {
        SkipWithoutBrowser();
        await page.ClickAsync("button[data-view=sweep]");
        // The page's default sweep: 33 x 25 cells, one seed, the chapter's 12 epochs.
        await page.ClickAsync("#sweep-start");
        await WaitFor("() => document.getElementById('sweep-status').textContent.startsWith('done')");
        Assert.Equal(await Attribute("#sweep-progress", "max"), double.Parse(await page.EvaluateAsync<string>("() => String(document.getElementById('sweep-progress').value)"), CultureInfo.InvariantCulture));

        // The map drawn is the API's last one: its losses (null where diverged) and a cross on each diverged point.
        var (loss, cells) = await ApiSweep(await SweepQuery());
        Assert.Equal(33 * 25, cells.Count);
        var heat = await page.EvaluateAsync<JsonElement>("() => document.getElementById('sweep-map').data[0]");
        Assert.Equal("heatmap", heat.GetProperty("type").GetString());
        Assert.Equal(loss, Losses(heat.GetProperty("customdata")));
        int crosses = await page.EvaluateAsync<int>("() => document.getElementById('sweep-map').data.find(t => t.name === 'diverged').x.length");
        Assert.Equal(loss.SelectMany(row => row).Count(l => l is null), crosses);
        Assert.True(crosses > 0, "the default sweep should reach where plain SGD and momentum diverge");

        // The chapter's point, lr 0.01 and momentum 0.8, is a point of the default grid.
        await ClickMap(0.01, 0.8);
        await WaitForCurves(3);
        var cell = cells.Single(c => Math.Abs(c.GetProperty("lr").GetDouble() - 0.01) < 1e-9 && Math.Abs(c.GetProperty("momentum").GetDouble() - 0.8) < 1e-9);
        double lr = cell.GetProperty("lr").GetDouble(), momentum = cell.GetProperty("momentum").GetDouble(), effective = lr / (1 - momentum);
        var plain = cells.Single(c => c.GetProperty("lr").GetDouble() == lr && c.GetProperty("momentum").GetDouble() == 0);
        var drawn = await DrawnCurves();
        Assert.Equal(["momentum 0.8, lr 0.01", "plain SGD, lr 0.01", "plain SGD, lr 0.05 = lr/(1 − momentum)"], drawn.Keys);
        Assert.Equal(EpochLosses(cell), drawn["momentum 0.8, lr 0.01"]);
        Assert.Equal(EpochLosses(plain), drawn["plain SGD, lr 0.01"]);
        var (_, alone) = await ApiSweep($"lr-min={R(effective)}&lr-max={R(effective)}&lr-count=1&momentum-min=0&momentum-count=1&seeds=1&epochs=12");
        Assert.Equal(EpochLosses(alone.Single()), drawn["plain SGD, lr 0.05 = lr/(1 − momentum)"]);
        // The chapter's story: momentum ends far below plain SGD at its lr, and about where plain SGD at 0.05 does.
        Assert.True(drawn["momentum 0.8, lr 0.01"][^1] < 0.5 * drawn["plain SGD, lr 0.01"][^1]);
        Assert.StartsWith("lr 0.01, momentum 0.8: lr/(1 − momentum) = 0.05", await page.TextContentAsync("#sweep-cell"));
        Assert.True(await page.IsHiddenAsync("#error"));
        AssertNoPageErrors();
        await page.Mouse.MoveAsync(0, 0); // no hover label over the map
        await Screenshot("sweep");
    }

    [Fact]
    public async Task A_sweep_redraws_its_map_each_epoch_and_stop_ends_it_on_the_server()
    {
        SkipWithoutBrowser();
        await page.ClickAsync("button[data-view=sweep]");
        // The largest sweep the API takes, 1,024 cells for 50 epochs, by the torch engine: a few seconds of one core
        // (the fused engine ends it before a click could stop it).
        await page.SelectOptionAsync("#sweep-engine", "torch");
        await page.FillAsync("#sweep-lr-count", "32");
        await page.FillAsync("#sweep-momentum-count", "32");
        await page.FillAsync("#sweep-epochs", "50");
        await page.ClickAsync("#sweep-start");
        const string title = "() => document.getElementById('sweep-map').layout?.title?.text ?? ''";
        await WaitFor($"() => ({title})().startsWith('mean loss of epoch')");
        string first = await page.EvaluateAsync<string>(title);
        await WaitFor($"() => ({title})() !== {JsonSerializer.Serialize(first)}");
        Assert.True(await ServerIsTraining());
        await page.ClickAsync("#sweep-stop");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("stopped", await page.TextContentAsync("#sweep-status"));
        await WaitForTrainingSlotFree();
        var freed = clock.Elapsed;
        // Stopped before its last epoch (about 45 ms each on one core, fewer on a warm server), its slot must come back
        // within a second, before the rest could have run: the server stopped, it did not train on unread.
        string stopped = await page.EvaluateAsync<string>(title);
        Assert.InRange(int.Parse(stopped.Split(' ')[^1], CultureInfo.InvariantCulture), 1, 49);
        Assert.True(freed < TimeSpan.FromSeconds(1), $"the server held the sweep's slot {freed.TotalSeconds:0.00} s after stop");
        await Task.Delay(300);
        Assert.Equal(stopped, await page.EvaluateAsync<string>(title));
        Assert.True(await page.IsHiddenAsync("#error"));
        AssertNoPageErrors();
    }

    [Fact]
    public async Task A_refused_sweep_and_a_refused_point_are_said_on_the_page()
    {
        SkipWithoutBrowser();
        await page.ClickAsync("button[data-view=sweep]");
        await page.FillAsync("#sweep-seeds", "1,1");
        await page.ClickAsync("#sweep-start");
        await WaitFor("() => !document.getElementById('error').hidden");
        Assert.Equal("The sweep failed: refused: seeds must be 1 to 8 distinct whole numbers in [0, 2147483647], comma-separated (got '1,1')",
            await page.TextContentAsync("#error"));

        // A small sweep clears it; without a momentum-0 row, plain SGD at the clicked point's lr is trained too.
        await page.FillAsync("#sweep-seeds", "1, 2");
        await page.FillAsync("#sweep-lr-count", "2");
        await page.FillAsync("#sweep-momentum-min", "0.5");
        await page.FillAsync("#sweep-momentum-count", "2");
        await page.FillAsync("#sweep-epochs", "2");
        await page.ClickAsync("#sweep-start");
        await WaitFor("() => document.getElementById('sweep-status').textContent.startsWith('done')");
        Assert.True(await page.IsHiddenAsync("#error"));
        await ClickMap(0.001, 0.5);
        await WaitForCurves(6);
        Assert.Equal(["momentum 0.5, lr 0.001, seed 1", "momentum 0.5, lr 0.001, seed 2", "plain SGD, lr 0.001, seed 1", "plain SGD, lr 0.001, seed 2",
            "plain SGD, lr 0.002 = lr/(1 − momentum), seed 1", "plain SGD, lr 0.002 = lr/(1 − momentum), seed 2"], (await DrawnCurves()).Keys);

        // The server's one training slot taken by another client: plain SGD for the next point is refused with 429.
        await WaitForTrainingSlotFree();
        using (await client.GetAsync("api/train?epochs=100", HttpCompletionOption.ResponseHeadersRead))
        {
            await ClickMap(10, 0.96);
            await WaitFor("() => !document.getElementById('error').hidden");
            Assert.Equal("Plain SGD for the clicked point could not be trained: refused: the server is already running 1 trainings, its most at once; try again when one ends",
                await page.TextContentAsync("#error"));
        }
        AssertNoPageErrors();
    }
}
