using Microsoft.AspNetCore.Http;
using TorchMomentum.Cli.CommandLine;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// Reads an API request's query parameters against their allowed ranges, the way the command line reads its
/// options: the first bad one becomes one line naming the parameter, its range and the value given, which
/// the endpoint returns as HTTP 400 <c>{"error": ...}</c>.
/// </summary>
public sealed class QueryValues(IQueryCollection query)
{
    /// <summary>The first problem found, or null.</summary>
    public string? Error { get; private set; }

    /// <summary>A number in <paramref name="range"/>, or <paramref name="fallback"/> when absent.</summary>
    public double Number(string name, double fallback, Options.Interval range)
    {
        if (Given(name) is not { } text) return fallback;
        if (Options.TryNumber(name, text, range, out double value, out string? refusal)) return value;
        Error ??= refusal;
        return fallback;
    }

    /// <summary>A whole number in [<paramref name="min"/>, <paramref name="max"/>], or <paramref name="fallback"/> when absent.</summary>
    public int Count(string name, int fallback, int min, int max)
    {
        if (Given(name) is not { } text) return fallback;
        if (Options.TryWhole(name, text, min, max, out long value, out string? refusal)) return (int)value;
        Error ??= refusal;
        return fallback;
    }

    /// <summary>HTTP 400 with the problem, for the endpoint to return.</summary>
    public IResult BadRequest() => Results.Json(new { error = Error }, statusCode: StatusCodes.Status400BadRequest);

    private string? Given(string name) => query.TryGetValue(name, out var values) ? values.ToString() : null;
}
