using System.Net.ServerSentEvents;
using System.Text.Json;

namespace TorchMomentum.Tests;

/// <summary>The explore API's event streams as the tests read them, through .NET's own parser (SseParser): one reader for all.</summary>
internal static class SseEvents
{
    /// <summary>A stream's events in the order sent: each one's type ("message" for a plain one) and its JSON data.</summary>
    public static async Task<List<(string Type, JsonElement Data)>> ReadAllAsync(HttpResponseMessage response)
    {
        var events = new List<(string, JsonElement)>();
        await foreach (var item in Enumerate(await response.Content.ReadAsStreamAsync())) events.Add(item);
        return events;
    }

    /// <summary>A stream's events one by one, as they arrive.</summary>
    public static async IAsyncEnumerable<(string Type, JsonElement Data)> Enumerate(Stream stream)
    {
        await foreach (var item in SseParser.Create(stream).EnumerateAsync())
            yield return (item.EventType, JsonDocument.Parse(item.Data).RootElement);
    }

    /// <summary>The first event of a stream, once it has come.</summary>
    public static async Task<string> FirstTypeAsync(HttpResponseMessage response)
    {
        await using var events = Enumerate(await response.Content.ReadAsStreamAsync()).GetAsyncEnumerator();
        Assert.True(await events.MoveNextAsync(), "the stream ended before its first event");
        return events.Current.Type;
    }
}
