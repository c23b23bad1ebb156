using Microsoft.AspNetCore.Http;
using TorchMomentum.Cli.CommandLine;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// Reads an API request's query parameters against their allowed ranges (<see cref="ApiLimits"/>), the way the
/// command line reads its options: the first bad one becomes one line naming the parameter, its range and the
/// value given, which the endpoint returns as HTTP 400 <c>{"error": ...}</c>. A parameter the endpoint does not take
/// (a typo that would silently take a default) is such a problem too.
/// </summary>
public sealed class QueryValues(IQueryCollection query)
{
    private readonly SortedSet<string> asked = new(StringComparer.Ordinal);
    private string? error;
    private bool unknownChecked;

    /// <summary>
    /// The first problem found, or null. Read it after reading every parameter the endpoint takes: the first read also
    /// refuses any parameter of the request that none of those reads asked for.
    /// </summary>
    public string? Error
    {
        get
        {
            if (error is null && !unknownChecked)
            {
                unknownChecked = true;
                if (query.Keys.FirstOrDefault(key => !asked.Contains(key)) is { } unknown)
                    error = $"unknown parameter '{unknown}': this request takes {string.Join(", ", asked)}";
            }
            return error;
        }
    }

    /// <summary>A number in the parameter's range, or its default when absent.</summary>
    public double Number(ApiParameter parameter)
    {
        if (Given(parameter.Name) is not { } text) return parameter.Default;
        if (Options.TryNumber(parameter.Name, text, parameter.Range, out double value, out string? refusal)) return value;
        error ??= refusal;
        return parameter.Default;
    }

    /// <summary>A whole number in the parameter's (closed) range, or its default when absent.</summary>
    public int Count(ApiParameter parameter)
    {
        if (Given(parameter.Name) is not { } text) return (int)parameter.Default;
        if (Options.TryWhole(parameter.Name, text, (long)parameter.Range.Min, (long)parameter.Range.Max, out long value, out string? refusal)) return (int)value;
        error ??= refusal;
        return (int)parameter.Default;
    }

    /// <summary>
    /// A comma-separated list of 1 to <see cref="ApiParameter.MaxValues"/> distinct whole numbers in the parameter's
    /// (closed) range, or, when absent, <paramref name="defaults"/> (the parameter's default alone when not given).
    /// </summary>
    public long[] Wholes(ApiParameter parameter, long[]? defaults = null)
    {
        long[] fallback = defaults ?? [(long)parameter.Default];
        if (Given(parameter.Name) is not { } text) return fallback;
        string[] parts = text.Split(',');
        var values = new List<long>();
        foreach (string part in parts)
            if (Options.TryWhole(parameter.Name, part.Trim(), (long)parameter.Range.Min, (long)parameter.Range.Max, out long value, out _)) values.Add(value);
        if (values.Count == parts.Length && values.Count <= parameter.MaxValues && values.Distinct().Count() == values.Count) return [.. values];
        error ??= $"{parameter.Name} must be 1 to {parameter.MaxValues} distinct whole numbers in [{(long)parameter.Range.Min}, {(long)parameter.Range.Max}], comma-separated (got '{text}')";
        return fallback;
    }

    /// <summary>The contestants to race (<c>contestants=sgd,adam</c>), checked as --contestants is; the default race when absent.</summary>
    public string Contestants()
    {
        if (Given("contestants") is not { } text) return Training.ContestantNames.Default;
        if (Training.ContestantNames.Problem(text) is not { } problem) return text;
        error ??= problem.ForApi;
        return Training.ContestantNames.Default;
    }

    /// <summary>The sweep engine asked for (<c>engine=fused|torch</c>), the fused one when absent.</summary>
    public Sweeps.SweepEngine Engine()
    {
        switch (Given("engine"))
        {
            case null or "fused": return Sweeps.SweepEngine.Fused;
            case "torch": return Sweeps.SweepEngine.Torch;
            case var other:
                error ??= $"engine must be fused or torch (got '{other}')";
                return Sweeps.SweepEngine.Fused;
        }
    }

    /// <summary>Records a problem that no single parameter's range catches (it becomes <see cref="Error"/> unless one came first).</summary>
    public void Refuse(string problem) => error ??= problem;

    /// <summary>HTTP 400 with the problem, for the endpoint to return.</summary>
    public IResult BadRequest() => Results.Json(new { error = Error }, statusCode: StatusCodes.Status400BadRequest);

    private string? Given(string name)
    {
        asked.Add(name);
        return query.TryGetValue(name, out var values) ? values.ToString() : null;
    }
}
