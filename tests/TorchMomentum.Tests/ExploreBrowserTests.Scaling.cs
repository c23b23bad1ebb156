using System.Text.Json;

namespace TorchMomentum.Tests;

/// <summary>The explore page's Batch size view, in the browser (see the other parts of this class).</summary>
public sealed partial class ExploreBrowserTests
{
    [Fact]
    public async Task The_batch_size_view_draws_the_studys_best_steps_and_a_clicked_batchs_steps_against_lr()
    {
        SkipWithoutBrowser();
        await page.ClickAsync("button[data-view=scaling]");
        // A smaller study than the page's default, to be quick: three batch sizes, the page's seeds (2 tuning, 4 held out).
        await page.FillAsync("#scaling-batch-sizes", "1,32,1000");
        await page.ClickAsync("#scaling-start");
        await WaitFor("() => document.getElementById('scaling-status').textContent.startsWith('done')");

        // What the page drew for the loosest target (selected by default) is the API's last study event.
        await WaitForTrainingSlotFree();
        string[] blocks = (await client.GetStringAsync("api/scaling?batch-sizes=1,32,1000&lr-count=8&tune-seeds=1,2&eval-seeds=101,102,103,104&label-noise=0.1&steps=500"))
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var study = JsonDocument.Parse(blocks.Last(b => b.StartsWith("event: study\n", StringComparison.Ordinal)).Split("\ndata: ")[1]).RootElement;
        double target = study.GetProperty("targets").EnumerateArray().First().GetDouble();
        double?[] Best(string family) => study.GetProperty("rows").EnumerateArray()
            .Where(b => b.GetProperty("family").GetString() == family && b.GetProperty("target").GetDouble() == target)
            .Select(b => b.GetProperty("steps").ValueKind == JsonValueKind.Null ? (double?)null : b.GetProperty("steps").GetDouble()).ToArray();
        var drawn = await page.EvaluateAsync<JsonElement>(@"() => document.getElementById('scaling-steps-plot').data
            .filter(t => !t.name.startsWith('perfect')).map(t => ({ name: t.name, y: Array.from(t.y) }))");
        var sgd = drawn.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "plain SGD, chosen lr");
        var momentum = drawn.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "momentum, chosen lr and momentum");
        Assert.Equal(Best("sgd").Where(s => s is not null).Select(s => s!.Value), sgd.GetProperty("y").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(Best("momentum").Where(s => s is not null).Select(s => s!.Value), momentum.GetProperty("y").EnumerateArray().Select(v => v.GetDouble()));
        Assert.True(momentum.GetProperty("y").GetArrayLength() >= 2, "most batch sizes stay at the loosest target within 500 steps"); // the comparison is of steps, not of empty curves
        Assert.Equal(3, await page.EvaluateAsync<int>("() => document.getElementById('scaling-speedup').data.length"));

        // A click on the full batch: each menu's held-out steps against lr; plain SGD's chosen setting among them.
        var at = await page.EvaluateAsync<double[]>(@"() => {
            const plot = document.getElementById('scaling-steps-plot'), box = plot.querySelector('.nsewdrag').getBoundingClientRect();
            const [x0, x1] = plot.layout.xaxis.range;
            return [box.left + box.width * (3 - x0) / (x1 - x0), box.top + box.height / 2]; }");
        await page.Mouse.ClickAsync((float)at[0], (float)at[1]);
        await WaitFor("() => document.getElementById('scaling-by-lr').data?.length === 2");
        var byLr = await page.EvaluateAsync<JsonElement>("() => document.getElementById('scaling-by-lr').data.map(t => ({ name: t.name, y: Array.from(t.y) }))");
        var plainByLr = byLr.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "plain SGD").GetProperty("y").EnumerateArray()
            .Select(v => v.ValueKind == JsonValueKind.Null ? (double?)null : v.GetDouble()).ToArray();
        // The API's cells of batch 1000 (index 2 of 3), plain SGD's 8 settings (the first of 16), in id order
        // (seed x 3 + batch) x 16 + setting: medians over the four held-out seeds (seed indices 2 to 5).
        var steps = study.GetProperty("steps")[0];
        double Steps(int seed, int setting) => steps[(seed * 3 + 2) * 16 + setting] is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : double.PositiveInfinity;
        var expected = Enumerable.Range(0, 8).Select(k =>
        {
            var held = Enumerable.Range(2, 4).Select(s => Steps(s, k)).Order().ToArray();
            double median = (held[1] + held[2]) / 2;
            return double.IsFinite(median) ? median : (double?)null;
        }).ToArray();
        Assert.Equal(expected, plainByLr);
        if (Best("sgd")[^1] is { } chosen) Assert.Contains(chosen, plainByLr.Where(v => v is not null).Select(v => v!.Value));
        Assert.Empty(pageErrors);
        Assert.True(await page.EvaluateAsync<bool>("() => document.getElementById('shared-controls').classList.contains('hidden')"), "the bowl's sliders do not belong to this view");
        await page.Mouse.MoveAsync(0, 0); // no hover label in the picture
        await Screenshot("scaling");
    }
}
