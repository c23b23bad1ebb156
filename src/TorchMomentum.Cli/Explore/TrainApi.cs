using Microsoft.AspNetCore.Http;
using TorchMomentum.Cli.Output;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// <c>GET /api/train</c> (sections 5.5, 5.6): the chapter's experiment trained live, streamed as server-sent
/// events, one <c>data: {"step", "epoch", "sgd", "momentum", "handwritten"}</c> per step (a loss per contestant of
/// <c>contestants=</c>, as train's --contestants) with the same losses as train's losses.csv, then
/// <c>event: done</c>. Closing the connection stops the training within a step.
/// </summary>
public static class TrainApi
{
    /// <summary>Answers one request, holding a slot of <paramref name="slots"/> while it trains.</summary>
    public static async Task Handle(HttpContext context, TrainingSlots slots, CancellationToken stopping)
    {
        var q = new QueryValues(context.Request.Query);
        int samples = q.Count(ApiLimits.Train.Samples);
        var batchSize = ApiLimits.Train.BatchSize;
        var settings = new ExperimentSettings
        {
            LearningRate = q.Number(ApiLimits.Train.Lr),
            Momentum = q.Number(ApiLimits.Train.Momentum),
            // At most the samples there are (its AtMost).
            BatchSize = q.Count(batchSize with { Default = Math.Min(batchSize.Default, samples), Range = batchSize.Range with { Max = samples } }),
            Epochs = q.Count(ApiLimits.Train.Epochs),
            Seed = q.Count(ApiLimits.Train.Seed),
            Samples = samples,
            Hidden = q.Count(ApiLimits.Train.Hidden),
            Contestants = q.Contestants(),
        };
        if (q.Error is not null)
        {
            await q.BadRequest().ExecuteAsync(context);
            return;
        }
        await slots.Hold(context, () => Stream(context, settings, stopping));
    }

    // The small buffer holds training back when the client reads slowly.
    private static Task Stream(HttpContext context, ExperimentSettings settings, CancellationToken stopping) =>
        ServerSentEvents.Stream(context, stopping, buffered: 64, (send, _) =>
        {
            using var run = new ChapterRun(settings, CPU);
            int sent = 0;
            foreach (var step in run.Train())
            {
                send(Event(step, run.Names));
                sent++;
            }
            var divergence = run.Divergence;
            string end = divergence is null ? "null"
                : $"{{\"optimizer\":\"{divergence.Optimizer}\",\"step\":{divergence.Step},\"last_finite_loss\":{CsvFile.Number(divergence.LastFiniteLoss)}}}";
            send(ServerSentEvents.Event("done", $"{{\"steps\":{sent},\"divergence\":{end}}}"));
        });

    // The losses in their shortest round-trip form, as losses.csv writes them.
    private static string Event(TrainingStep step, IReadOnlyList<string> names) => ServerSentEvents.Event(null,
        $"{{\"step\":{step.Step},\"epoch\":{step.Epoch}" + string.Concat(names.Select((name, i) => $",\"{name}\":{CsvFile.Number(step.Losses[i])}")) + "}");
}
