using System.Globalization;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// A logarithmic axis for ScottPlot, which draws linear ones: values are plotted as their log10, and the ticks say
/// the powers of ten they stand for.
/// </summary>
public static class LogAxis
{
    /// <summary>log10 of <paramref name="value"/>, a zero drawn at the bottom of a double's range instead of -infinity.</summary>
    public static double Of(double value) => Math.Log10(Math.Max(value, 1e-300));

    /// <summary>Ticks at the powers of ten of a log10 axis from <paramref name="min"/> to <paramref name="max"/> (and the ends when it spans less than a decade).</summary>
    public static ScottPlot.TickGenerators.NumericManual DecadeTicks(double min, double max)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        var decades = Enumerable.Range((int)Math.Ceiling(min), Math.Max(0, (int)Math.Floor(max) - (int)Math.Ceiling(min) + 1)).ToArray();
        foreach (int k in decades) ticks.AddMajor(k, Decade(k));
        if (decades.Length < 2)
            foreach (double end in new[] { min, max }) ticks.AddMajor(end, Math.Pow(10, end).ToString("0.###e0", CultureInfo.InvariantCulture));
        return ticks;
    }

    /// <summary>Ticks at 1, 2 and 5 times the powers of ten of a log10 axis from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static ScottPlot.TickGenerators.NumericManual OneTwoFiveTicks(double min, double max)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int k = (int)Math.Floor(min); k <= (int)Math.Ceiling(max); k++)
            foreach (double f in new[] { 1.0, 2, 5 })
            {
                double at = k + Math.Log10(f);
                if (at >= min && at <= max) ticks.AddMajor(at, (f * Math.Pow(10, k)).ToString("0.####", CultureInfo.InvariantCulture));
            }
        return ticks;
    }

    /// <summary>10^k as a tick label.</summary>
    public static string Decade(int k) => k switch { 0 => "1", 1 => "10", -1 => "0.1", -2 => "0.01", _ => $"1e{k}" };
}
