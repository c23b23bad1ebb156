using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// Gives every error answered without a body the one line of JSON the explore API's errors carry,
/// <c>{"error": ...}</c>: the host filter's 400 (saying which Host names are allowed), a path that is no asset
/// (404), a method other than GET (405), an unforeseen failure (500). A startup filter, so that it can wrap the pipeline's outermost part,
/// the host filter that the web host's defaults put there.
/// </summary>
public sealed class ErrorBodies(IReadOnlyList<string> hostNames) : IStartupFilter
{
    /// <inheritdoc />
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseStatusCodePages(Write);
        // A request that fails unforeseen is a 500 with one line naming the innermost exception, as the command
        // line's unforeseen errors are, instead of an empty answer.
        app.UseExceptionHandler(failed => failed.Run(http =>
        {
            var error = http.Features.Get<IExceptionHandlerFeature>()?.Error;
            while (error?.InnerException is not null) error = error.InnerException;
            return Results.Json(new { error = $"500 internal server error: {error?.GetType().Name}: {error?.Message}" }, statusCode: StatusCodes.Status500InternalServerError).ExecuteAsync(http);
        }));
        next(app);
    };

    private Task Write(StatusCodeContext context)
    {
        var http = context.HttpContext;
        int status = http.Response.StatusCode;
        string host = http.Request.Headers.Host.ToString();
        // The endpoints' own 400s say which parameter is wrong, so a 400 without a body is the host filter's.
        string error = status == StatusCodes.Status400BadRequest && !HostNames.Allows(hostNames, host) ? HostNames.Refusal(hostNames, host)
            : $"{status} {ReasonPhrases.GetReasonPhrase(status).ToLowerInvariant()}";
        return Results.Json(new { error }, statusCode: status).ExecuteAsync(http);
    }
}
