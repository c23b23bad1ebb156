using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>
/// Option factories that validate while parsing, so every bad value gets the same one-line error:
/// the option, the allowed range and the value given.
/// </summary>
public static class Options
{
    /// <summary>A floating-point option whose value must be finite and lie in [min, max] (or [min, max)).</summary>
    public static Option<double> Number(string name, string description, double defaultValue,
        double min, double max = double.PositiveInfinity, bool maxExclusive = false)
    {
        string range = $"[{Show(min)}, {Show(max)}{(maxExclusive || double.IsPositiveInfinity(max) ? ")" : "]")}";
        return new Option<double>(name)
        {
            Description = $"{description} (range {range}, default {Show(defaultValue)})",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                string given = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                bool ok = double.TryParse(given, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
                    && double.IsFinite(value) && value >= min && (maxExclusive ? value < max : value <= max);
                if (!ok) result.AddError($"{name} must be a number in {range} (got '{given}').");
                return value;
            },
        };
    }

    /// <summary>A whole-number option whose value must lie in [min, max].</summary>
    public static Option<int> Count(string name, string description, int defaultValue, int min, int max = int.MaxValue)
        => Whole(name, description, defaultValue, min, max, v => (int)v);

    /// <summary>A 64-bit whole-number option (seeds) whose value must lie in [min, max].</summary>
    public static Option<long> Long(string name, string description, long defaultValue, long min, long max = long.MaxValue)
        => Whole(name, description, defaultValue, min, max, v => v);

    /// <summary>An optional whole-number option: absent means "let the library decide".</summary>
    public static Option<int?> OptionalCount(string name, string description, int min, int max)
    {
        return new Option<int?>(name)
        {
            Description = $"{description} (range [{min}, {max}])",
            CustomParser = result =>
            {
                string given = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (int.TryParse(given, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max)
                    return value;
                result.AddError($"{name} must be a whole number in [{min}, {max}] (got '{given}').");
                return null;
            },
        };
    }

    /// <summary>An option that takes one of a fixed set of names, mapped to values.</summary>
    public static Option<T> OneOf<T>(string name, string description, string defaultName, IReadOnlyDictionary<string, T> choices)
    {
        string allowed = string.Join("|", choices.Keys);
        return new Option<T>(name)
        {
            Description = $"{description} ({allowed}, default {defaultName})",
            DefaultValueFactory = _ => choices[defaultName],
            CustomParser = result =>
            {
                string given = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (choices.TryGetValue(given, out var value)) return value;
                result.AddError($"{name} must be one of {allowed} (got '{given}').");
                return default!;
            },
        };
    }

    private static Option<T> Whole<T>(string name, string description, T defaultValue, long min, long max, Func<long, T> convert)
    {
        return new Option<T>(name)
        {
            Description = $"{description} (range [{min}, {max}], default {defaultValue})",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                string given = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (long.TryParse(given, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) && value >= min && value <= max)
                    return convert(value);
                result.AddError($"{name} must be a whole number in [{min}, {max}] (got '{given}').");
                return defaultValue;
            },
        };
    }

    private static string Show(double value) => double.IsPositiveInfinity(value) ? "inf" : value.ToString(CultureInfo.InvariantCulture);
}
