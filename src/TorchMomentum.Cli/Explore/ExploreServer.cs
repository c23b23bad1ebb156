using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HostFiltering;
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
/// every request's work (<see cref="BowlApi"/>, <see cref="RateMapApi"/>, <see cref="NoiseApi"/>,
/// <see cref="VelocityApi"/>, <see cref="TrainApi"/>, <see cref="SweepApi"/>), answers only to the names of that
/// address (<see cref="HostNames"/>: HTTP 400 for any other Host header) and touches no file on a request's behalf. Every error answer is one line of JSON, <c>{"error": ...}</c>.
/// </summary>
public sealed class ExploreServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private ExploreServer(WebApplication app, string url)
    {
        this.app = app;
        Url = url;
    }

    /// <summary>
    /// The URL to open the page at, with the real port when 0 was asked for; a loopback one when the server
    /// listens on every interface (0.0.0.0 is not a name the server answers to).
    /// </summary>
    public string Url { get; }

    /// <summary>The longest query string a request may have, characters.</summary>
    public const int MaxQueryLength = 2048;

    /// <summary>Starts listening on <paramref name="address"/>:<paramref name="port"/> (0: a free port).</summary>
    /// <exception cref="IOException">The address cannot be bound (the port is in use).</exception>
    public static async Task<ExploreServer> StartAsync(IPAddress address, int port, int maxTrainings)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        // The first line on stdout is the URL; the framework's own console lines would come before it.
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(address, port);
            // Kestrel answers a request line longer than its limit itself, with an empty 414; a limit well above
            // MaxQueryLength lets the app say, in its one line of JSON, what is too long.
            kestrel.Limits.MaxRequestLineSize = 64 * 1024;
        });
        // Ctrl+C: streams are cancelled at once, and the server waits at most this long for them.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1.5));
        builder.Services.AddSingleton(new TrainingSlots(maxTrainings));
        var names = HostNames.Of(address);
        // ASP.NET Core's own host filter, which the builder's defaults already put first in the pipeline: it only
        // needs the names. An empty Host header is refused too (HTTP/1.0 may send none). Its refusal is an empty
        // 400, which ErrorBodies, registered first so that it wraps the filter, gives its one line.
        builder.Services.Configure<HostFilteringOptions>(o =>
        {
            o.AllowedHosts = [.. names];
            o.AllowEmptyHosts = false;
            o.IncludeFailureMessage = false;
        });
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IStartupFilter>(new ErrorBodies(names)));
        var app = builder.Build();

        // Every query the page sends is under 300 characters: a longer one is refused before any endpoint reads it.
        app.Use((http, next) => http.Request.QueryString.Value?.Length is > MaxQueryLength and var length
            ? Results.Json(new { error = $"414 uri too long: the query must be at most {MaxQueryLength} characters (got {length})" },
                statusCode: StatusCodes.Status414UriTooLong).ExecuteAsync(http)
            : next(http));
        app.MapGet("/api/limits", LimitsApi.Handle);
        app.MapGet("/api/bowl", BowlApi.Handle);
        app.MapGet("/api/ratemap", RateMapApi.Handle);
        app.MapGet("/api/noise", NoiseApi.Handle);
        app.MapGet("/api/velocity", VelocityApi.Handle);
        app.MapGet("/api/train", (HttpContext context, TrainingSlots slots) => TrainApi.Handle(context, slots, app.Lifetime.ApplicationStopping));
        app.MapGet("/api/sweep", (HttpContext context, TrainingSlots slots) => SweepApi.Handle(context, slots, app.Lifetime.ApplicationStopping));
        app.MapGet("/api/scaling", (HttpContext context, TrainingSlots slots) => ScalingApi.Handle(context, slots, app.Lifetime.ApplicationStopping));
        app.MapGet("/{**path}", (string? path) => PageAssets.Handle(path));

        await app.StartAsync();
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var uri = new UriBuilder(bound);
        if (address.Equals(IPAddress.Any)) uri.Host = "127.0.0.1";
        else if (address.Equals(IPAddress.IPv6Any)) uri.Host = "[::1]";
        return new ExploreServer(app, uri.Uri.ToString());
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
