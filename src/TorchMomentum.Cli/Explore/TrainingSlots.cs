using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// The server's bound on training work: at most one training per connection and at most
/// <see cref="Capacity"/> at once in the whole process; a request past either bound is refused, not queued.
/// </summary>
public sealed class TrainingSlots(int capacity)
{
    private readonly ConcurrentDictionary<string, bool> connections = new();
    private int inUse;

    /// <summary>The most trainings at once.</summary>
    public int Capacity => capacity;

    /// <summary>Trainings running now.</summary>
    public int InUse => Volatile.Read(ref inUse);

    /// <summary>Takes a slot for <paramref name="connection"/>; false, with the reason, when none can be had.</summary>
    public bool TryTake(string connection, out string? refusal)
    {
        refusal = null;
        if (!connections.TryAdd(connection, true))
        {
            refusal = "this connection is already streaming a training; close it first";
            return false;
        }
        if (Interlocked.Increment(ref inUse) <= capacity) return true;
        Release(connection);
        refusal = $"the server is already running {capacity} trainings, its most at once; try again when one ends";
        return false;
    }

    /// <summary>
    /// Runs <paramref name="training"/> holding a slot for the request's connection, or answers HTTP 429 with the
    /// reason when none can be had.
    /// </summary>
    public async Task Hold(HttpContext context, Func<Task> training)
    {
        string connection = context.Connection.Id;
        if (!TryTake(connection, out string? refusal))
        {
            await Results.Json(new { error = refusal }, statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(context);
            return;
        }
        try
        {
            await training();
        }
        finally
        {
            Release(connection);
        }
    }

    /// <summary>Gives the slot back.</summary>
    public void Release(string connection)
    {
        connections.TryRemove(connection, out _);
        Interlocked.Decrement(ref inUse);
    }
}
