using System.Globalization;
using System.Numerics;

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
}
