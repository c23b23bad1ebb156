using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// A response of server-sent events made by a training on a thread of its own, the way <c>/api/train</c> and
/// <c>/api/sweep</c> stream: each event is sent as soon as it is made, the training stops when the client leaves or
/// the server stops, and a failure after the headers went out ends the stream with <c>event: failed</c>. ASP.NET
/// Core 10's <c>TypedResults.ServerSentEvents</c> would format the lines, but these few are not where the work is:
/// the training's own thread (TorchSharp's dispose scopes belong to one), the bounded hand-off that holds a slow
/// reader's training back, and the failure event after the headers are, and it has none of them.
/// </summary>
public static class ServerSentEvents
{
    /// <summary>One event: <c>event: NAME</c> (none for a plain message), then its one line of JSON data.</summary>
    public static string Event(string? name, string json) => name is null ? $"data: {json}\n\n" : $"event: {name}\ndata: {json}\n\n";

    /// <summary>
    /// Runs <paramref name="produce"/> on a thread of its own, giving it a way to send an event and the token that
    /// stops it, and writes what it sends until it returns. Sending blocks when <paramref name="buffered"/> events
    /// wait unread, so a client that reads slowly holds the training back instead of filling the memory.
    /// </summary>
    public static async Task Stream(HttpContext context, CancellationToken stopping, int buffered, Action<Action<string>, CancellationToken> produce)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var events = Channel.CreateBounded<string>(new BoundedChannelOptions(buffered) { SingleReader = true, SingleWriter = true });
        // A thread of its own: TorchSharp's dispose scopes belong to a thread, and an await may resume anywhere.
        var producer = Task.Factory.StartNew(() =>
        {
            try
            {
                produce(e => events.Writer.WriteAsync(e, cancel.Token).AsTask().GetAwaiter().GetResult(), cancel.Token);
                events.Writer.Complete();
            }
            catch (Exception e)
            {
                events.Writer.Complete(e);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        try
        {
            await foreach (string e in events.Reader.ReadAllAsync(cancel.Token))
            {
                await context.Response.WriteAsync(e, cancel.Token);
                await context.Response.Body.FlushAsync(cancel.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The client left or the server is stopping: nothing more to send.
        }
        catch (Exception e)
        {
            // Headers are sent, so no status can say it: the stream ends with the reason instead. The channel hands
            // on the producer's exception inside its own.
            var reason = e is ChannelClosedException { InnerException: { } inner } ? inner : e;
            await context.Response.WriteAsync(Event("failed", System.Text.Json.JsonSerializer.Serialize(new { error = reason.Message })), CancellationToken.None);
        }
        finally
        {
            cancel.Cancel();
            await producer;
        }
    }
}
