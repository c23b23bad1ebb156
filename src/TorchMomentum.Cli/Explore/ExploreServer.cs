using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// The explore page's web server: the page, and an API whose every number comes from the library
/// (<c>MomentumSgd</c>, the theory of sections 5.2 to 5.4, the chapter's run). It binds one address, bounds
/// every request's work (<see cref="BowlApi"/>, <see cref="RateMapApi"/>, <see cref="TrainApi"/>) and
/// touches no file on a request's behalf.
/// </summary>
public sealed class ExploreServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private ExploreServer(WebApplication app, string url)
    {
        this.app = app;
        Url = url;
    }

    /// <summary>The URL the server listens on, with the real port when 0 was asked for.</summary>
    public string Url { get; }

    /// <summary>Trainings running now (for tests).</summary>
    public TrainingSlots Trainings => app.Services.GetRequiredService<TrainingSlots>();

    /// <summary>Starts listening on <paramref name="address"/>:<paramref name="port"/> (0: a free port).</summary>
    /// <exception cref="IOException">The address cannot be bound (the port is in use).</exception>
    public static async Task<ExploreServer> StartAsync(IPAddress address, int port, int maxTrainings)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        // The first line on stdout is the URL; the framework's own console lines would come before it.
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, port));
        // Ctrl+C: streams are cancelled at once, and the server waits at most this long for them.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1.5));
        builder.Services.AddSingleton(new TrainingSlots(maxTrainings));
        var app = builder.Build();

        app.MapGet("/api/bowl", BowlApi.Handle);
        app.MapGet("/api/ratemap", RateMapApi.Handle);
        app.MapGet("/api/train", (HttpContext context, TrainingSlots slots) => TrainApi.Handle(context, slots, app.Lifetime.ApplicationStopping));
        app.MapGet("/{**path}", (string? path) => PageAssets.Handle(path));

        await app.StartAsync();
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ExploreServer(app, bound.TrimEnd('/') + "/");
    }

    /// <summary>Runs until the process is asked to stop (Ctrl+C, SIGTERM).</summary>
    public Task WaitForShutdownAsync() => app.WaitForShutdownAsync();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
