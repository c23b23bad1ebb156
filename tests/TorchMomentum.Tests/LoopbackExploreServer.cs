using System.Net;
using TorchMomentum.Cli.Explore;

namespace TorchMomentum.Tests;

/// <summary>An explore server on a free loopback port for each test of a class, with its URL and a client of it.</summary>
public abstract class LoopbackExploreServer : IAsyncLifetime
{
    /// <summary>The running server.</summary>
    protected ExploreServer server = null!;

    /// <summary>Its URL, with the real port.</summary>
    protected Uri url = null!;

    /// <summary>
    /// A client of it. A response disposed before its end closes its connection at once, as a browser's aborted fetch
    /// does: by default HttpClient goes on reading it (up to 1 MB, for 2 s) to use the connection again, so a stream
    /// "closed" by a test still held its training slot, and the cap test chased slots for 20 s (it failed so once in CI).
    /// </summary>
    protected HttpClient client = null!;

    /// <summary>The trainings the server runs at once (its --max-trainings).</summary>
    protected virtual int MaxTrainings => 1;

    public virtual async ValueTask InitializeAsync()
    {
        server = await ExploreServer.StartAsync(IPAddress.Loopback, 0, MaxTrainings);
        url = new Uri(server.Url);
        client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = url, Timeout = TimeSpan.FromMinutes(2) };
    }

    public virtual async ValueTask DisposeAsync()
    {
        client.Dispose();
        await server.DisposeAsync();
    }
}
