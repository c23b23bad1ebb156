using System.Globalization;
using System.Numerics;
using TorchMomentum.Theory;

namespace TorchMomentum.Cli.Output;

/// <summary>How numbers read on the console and in messages: invariant culture, infinity as "inf".</summary>
public static class Shown
{
    /// <summary><paramref name="value"/> in <paramref name="format"/> (a .NET numeric format; "G" by default).</summary>
    public static string Number(double value, string format = "G") =>
        double.IsPositiveInfinity(value) ? "inf" : double.IsNegativeInfinity(value) ? "-inf" : value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>A complex number as a+bi, or just a when it is real.</summary>
    public static string Number(Complex z, string format) => z.Imaginary == 0 ? Number(z.Real, format)
        : $"{Number(z.Real, format)}{(z.Imaginary < 0 ? "-" : "+")}{Number(Math.Abs(z.Imaginary), format)}i";

    /// <summary>
    /// A measured rate in <paramref name="format"/>, with where the path left double's range when it did; without
    /// a rate, what became of the path instead: "converged to 0 within N steps" or "diverged within N steps".
    /// </summary>
    public static string Rate(RateMeasurement measured, string format) => measured switch
    {
        { Rate: { } rate, ConvergedWithin: { } zero } => $"{Number(rate, format)} (0 from step {zero})",
        { Rate: { } rate, DivergedWithin: { } overflow } => $"{Number(rate, format)} (inf from step {overflow})",
        { Rate: { } rate } => Number(rate, format),
        { ConvergedWithin: { } zero } => $"converged to 0 within {zero} steps",
        { DivergedWithin: { } overflow } => $"diverged within {overflow} steps",
        _ => "-",
    };
}
