using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using TorchMomentum.Cli.Output;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// <c>GET /api/train</c> (sections 5.5, 5.6): the chapter's experiment trained live, streamed as server-sent
/// events, one <c>data: {"step", "epoch", "sgd", "momentum", "handwritten"}</c> per step with the same losses
/// as train's losses.csv, then <c>event: done</c>. Closing the connection stops the training within a step.
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
        };
        if (q.Error is not null)
        {
            await q.BadRequest().ExecuteAsync(context);
            return;
        }
        string connection = context.Connection.Id;
        if (!slots.TryTake(connection, out string? refusal))
        {
            await Results.Json(new { error = refusal }, statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(context);
            return;
        }
        try
        {
            await Stream(context, settings, stopping);
        }
        finally
        {
            slots.Release(connection);
        }
    }

    private static async Task Stream(HttpContext context, ExperimentSettings settings, CancellationToken stopping)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        // Training runs on a thread of its own: TorchSharp's dispose scopes belong to a thread, and an await
        // may resume anywhere. The small bounded channel holds training back when the client reads slowly.
        var steps = Channel.CreateBounded<TrainingStep>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
        Divergence? divergence = null;
        var training = Task.Factory.StartNew(() =>
        {
            try
            {
                using var run = new ChapterRun(settings, CPU);
                foreach (var step in run.Train()) steps.Writer.WriteAsync(step, cancel.Token).AsTask().GetAwaiter().GetResult();
                divergence = run.Divergence;
                steps.Writer.Complete();
            }
            catch (Exception e)
            {
                steps.Writer.Complete(e);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        int sent = 0;
        try
        {
            await foreach (var step in steps.Reader.ReadAllAsync(cancel.Token))
            {
                await context.Response.WriteAsync(Event(step, settings.ContestantList), cancel.Token);
                await context.Response.Body.FlushAsync(cancel.Token);
                sent++;
            }
            string end = divergence is null ? "null"
                : $"{{\"optimizer\":\"{divergence.Optimizer}\",\"step\":{divergence.Step},\"last_finite_loss\":{CsvFile.Number(divergence.LastFiniteLoss)}}}";
            await context.Response.WriteAsync($"event: done\ndata: {{\"steps\":{sent},\"divergence\":{end}}}\n\n", cancel.Token);
        }
        catch (OperationCanceledException)
        {
            // The client left or the server is stopping: nothing more to send.
        }
        catch (Exception e)
        {
            // Headers are sent, so no status can say it: the stream ends with the reason instead.
            await context.Response.WriteAsync($"event: failed\ndata: {System.Text.Json.JsonSerializer.Serialize(new { error = e.Message })}\n\n", CancellationToken.None);
        }
        finally
        {
            cancel.Cancel();
            await training;
        }
    }

    // The losses in their shortest round-trip form, as losses.csv writes them.
    private static string Event(TrainingStep step, IReadOnlyList<string> names) =>
        $"data: {{\"step\":{step.Step},\"epoch\":{step.Epoch}" +
        string.Concat(names.Select((name, i) => $",\"{name}\":{CsvFile.Number(step.Losses[i])}")) + "}\n\n";
}
