using System.Globalization;

namespace TorchMomentum.Validation;

/// <summary>An interval of allowed values, closed unless said otherwise: every range a setting has is one of these.</summary>
/// <param name="Min">Its lower end.</param>
/// <param name="Max">Its upper end (infinity: none).</param>
/// <param name="MinOpen">Whether <paramref name="Min"/> itself is excluded.</param>
/// <param name="MaxOpen">Whether <paramref name="Max"/> itself is excluded.</param>
public readonly record struct Interval(double Min, double Max = double.PositiveInfinity, bool MinOpen = false, bool MaxOpen = false)
{
    /// <summary>Whether a finite <paramref name="value"/> lies in the interval (NaN and infinities never do).</summary>
    public bool Contains(double value) => double.IsFinite(value)
        && (MinOpen ? value > Min : value >= Min) && (MaxOpen ? value < Max : value <= Max);

    /// <summary>As the refusals write it: [0, 1), (0, inf).</summary>
    public override string ToString() =>
        $"{(MinOpen ? "(" : "[")}{Shown(Min)}, {Shown(Max)}{(MaxOpen || double.IsPositiveInfinity(Max) ? ")" : "]")}";

    private static string Shown(double value) =>
        double.IsPositiveInfinity(value) ? "inf" : double.IsNegativeInfinity(value) ? "-inf" : value.ToString("G", CultureInfo.InvariantCulture);
}
