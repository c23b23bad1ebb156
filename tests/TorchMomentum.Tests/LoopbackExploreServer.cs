using System.Net;
using TorchMomentum.Cli.Explore;

namespace TorchMomentum.Tests;

/// <summary>An explore server on a free loopback port for each test of a class, with its URL.</summary>
public abstract class LoopbackExploreServer : IAsyncLifetime
{
    /// <summary>The running server.</summary>
    protected ExploreServer server = null!;

    /// <summary>Its URL, with the real port.</summary>
    protected Uri url = null!;

    public virtual async ValueTask InitializeAsync()
    {
        server = await ExploreServer.StartAsync(IPAddress.Loopback, 0, maxTrainings: 1);
        url = new Uri(server.Url);
    }

    public virtual async ValueTask DisposeAsync() => await server.DisposeAsync();
}
