using TorchMomentum.Cli.CommandLine;

namespace TorchMomentum.Cli.Explore;

/// <summary>One query parameter of the explore API, as <see cref="QueryValues"/> reads it and <c>GET /api/limits</c> publishes it.</summary>
/// <param name="Name">The parameter's name in the query string.</param>
/// <param name="Default">The value taken when the parameter is absent.</param>
/// <param name="Range">The values allowed.</param>
/// <param name="Whole">Whether only whole numbers are allowed.</param>
/// <param name="AtMost">Another parameter of the same endpoint whose value this one may not exceed, or null.</param>
/// <param name="MaxValues">More than 1: a comma-separated list of up to this many distinct values, each in the range.</param>
public sealed record ApiParameter(string Name, double Default, TorchMomentum.Validation.Interval Range, bool Whole = false, string? AtMost = null, int MaxValues = 1);
