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
        // A smaller study than the page's default, to be quick: three batch sizes, two seeds.
        await page.FillAsync("#scaling-batch-sizes", "1,32,1000");
        await page.FillAsync("#scaling-seeds", "1,2");
        await page.ClickAsync("#scaling-start");
        await WaitFor("() => document.getElementById('scaling-status').textContent.startsWith('done')");

        // What the page drew for the tightest target (selected by default) is the API's last study event.
        await WaitForTrainingSlotFree();
        string[] blocks = (await client.GetStringAsync("api/scaling?batch-sizes=1,32,1000&lr-count=8&momentum-count=4&seeds=1,2&steps=500"))
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var study = JsonDocument.Parse(blocks.Last(b => b.StartsWith("event: study\n", StringComparison.Ordinal)).Split("\ndata: ")[1]).RootElement;
        double target = study.GetProperty("targets").EnumerateArray().Last().GetDouble();
        double?[] Best(string family) => study.GetProperty("best").EnumerateArray()
            .Where(b => b.GetProperty("family").GetString() == family && b.GetProperty("target").GetDouble() == target)
            .Select(b => b.GetProperty("steps").ValueKind == JsonValueKind.Null ? (double?)null : b.GetProperty("steps").GetDouble()).ToArray();
        var drawn = await page.EvaluateAsync<JsonElement>(@"() => document.getElementById('scaling-steps-plot').data
            .filter(t => !t.name.startsWith('perfect')).map(t => ({ name: t.name, y: Array.from(t.y) }))");
        var sgd = drawn.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "plain SGD, best lr");
        var momentum = drawn.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "momentum, best lr and momentum");
        Assert.Equal(Best("sgd").Where(s => s is not null).Select(s => s!.Value), sgd.GetProperty("y").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(Best("momentum").Where(s => s is not null).Select(s => s!.Value), momentum.GetProperty("y").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(3, sgd.GetProperty("y").GetArrayLength()); // every batch size reached the tightest target in 500 steps
        Assert.Equal(3, await page.EvaluateAsync<int>("() => document.getElementById('scaling-speedup').data.length"));

        // A click on the full batch: its steps against lr, one curve per momentum, plain SGD's best equal to the best drawn.
        var at = await page.EvaluateAsync<double[]>(@"() => {
            const plot = document.getElementById('scaling-steps-plot'), box = plot.querySelector('.nsewdrag').getBoundingClientRect();
            const [x0, x1] = plot.layout.xaxis.range;
            return [box.left + box.width * (3 - x0) / (x1 - x0), box.top + box.height / 2]; }");
        await page.Mouse.ClickAsync((float)at[0], (float)at[1]);
        await WaitFor("() => document.getElementById('scaling-by-lr').data?.length === 4");
        var byLr = await page.EvaluateAsync<JsonElement>("() => document.getElementById('scaling-by-lr').data.map(t => ({ name: t.name, y: Array.from(t.y) }))");
        var plainByLr = byLr.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "plain SGD").GetProperty("y").EnumerateArray()
            .Select(v => v.ValueKind == JsonValueKind.Null ? (double?)null : v.GetDouble()).ToArray();
        // The API's cells of batch 1000 (index 2 of 3) at momentum 0, in id order ((seed x 3 + batch) x 4 + momentum) x 8 + lr: medians over the two seeds.
        var steps = study.GetProperty("steps")[study.GetProperty("targets").GetArrayLength() - 1];
        double? Steps(int seed, int lr) => steps[((seed * 3 + 2) * 4 + 0) * 8 + lr] is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : null;
        var expected = Enumerable.Range(0, 8).Select(l => Steps(0, l) is { } a && Steps(1, l) is { } b ? (a + b) / 2 : (double?)null).ToArray();
        Assert.Equal(expected, plainByLr);
        Assert.Equal(Best("sgd")[^1], plainByLr.Where(v => v is not null).Min());
        Assert.Empty(pageErrors);
        Assert.True(await page.EvaluateAsync<bool>("() => document.getElementById('shared-controls').classList.contains('hidden')"), "the bowl's sliders do not belong to this view");
        await page.Mouse.MoveAsync(0, 0); // no hover label in the picture
        await Screenshot("scaling");
    }
}
