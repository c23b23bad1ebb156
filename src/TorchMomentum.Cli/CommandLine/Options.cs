using TorchMomentum.Cli.Output;
using System.CommandLine;
using System.Globalization;
using TorchMomentum.Validation;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>
/// Option factories that validate while parsing, so every bad value gets the same one-line error:
/// the option, the allowed range and the value given.
/// </summary>
public static class Options
{
    /// <summary>A floating-point option whose value must be finite and lie in <paramref name="range"/>.</summary>
    public static Option<double> Number(string name, string description, double defaultValue, Interval range) => new(name)
    {
        Description = $"{description} (range {range}, default {Shown.Number(defaultValue)})",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            if (TryNumber(name, Given(result), range, out double value, out string? refusal)) return value;
            result.AddError(refusal + ".");
            return defaultValue;
        },
    };

    /// <summary>A list of floating-point values (e.g. <c>--momentum 0 0.3 0.6</c>), each in <paramref name="range"/>.</summary>
    public static Option<double[]> Numbers(string name, string description, double[] defaults, Interval range) => new(name)
    {
        Description = $"{description}, one or more (range {range}, default {string.Join(" ", defaults.Select(d => Shown.Number(d)))})",
        AllowMultipleArgumentsPerToken = true,
        DefaultValueFactory = _ => defaults,
        CustomParser = result =>
        {
            var values = new List<double>();
            foreach (var token in result.Tokens)
            {
                if (!TryNumber(name, token.Value, range, out double value, out _))
                {
                    result.AddError($"{name} must be numbers in {range} (got '{token.Value}').");
                    return defaults;
                }
                values.Add(value);
            }
            return values.ToArray();
        },
    };

    /// <summary>A comma-separated list of distinct numbers (e.g. <c>--targets 0.0204,0.0154</c>), each in <paramref name="range"/>, given once.</summary>
    public static Option<double[]> NumberList(string name, string description, double[] defaults, Interval range) => new(name)
    {
        Description = $"{description}, comma-separated and distinct (each in {range}{(defaults.Length > 0 ? $", default {string.Join(",", defaults.Select(d => Shown.Number(d)))}" : "")})",
        HelpName = "list",
        Arity = ArgumentArity.ExactlyOne,
        DefaultValueFactory = _ => defaults,
        CustomParser = result =>
        {
            string given = Given(result);
            var values = new List<double>();
            foreach (var part in given.Split(','))
            {
                if (!TryNumber(name, part.Trim(), range, out double value, out _) || values.Contains(value))
                {
                    result.AddError($"{name} must be distinct comma-separated numbers in {range} (got '{given}').");
                    return defaults;
                }
                values.Add(value);
            }
            return values.ToArray();
        },
    };

    /// <summary>
    /// A comma-separated list of distinct whole numbers, each in [min, max], given once; a part <c>a-b</c> stands for a
    /// to b (e.g. <c>--seeds 1-24</c> or <c>1,2,5-8</c>).
    /// </summary>
    public static Option<long[]> WholeList(string name, string description, long[] defaults, long min, long max = long.MaxValue, string[]? aliases = null) => new(name, aliases ?? [])
    {
        Description = $"{description}, comma-separated and distinct, a-b for a range (each in [{min}, {max}], default {Ranges(defaults)})",
        HelpName = "list",
        // One token, as every other option takes: a second --seeds is refused by the parser, not silently dropped.
        Arity = ArgumentArity.ExactlyOne,
        DefaultValueFactory = _ => defaults,
        CustomParser = result =>
        {
            string given = Given(result);
            var values = new List<long>();
            string refusal = $"{name} must be distinct comma-separated whole numbers or ranges a-b in [{min}, {max}] (got '{given}').";
            var seen = new HashSet<long>();
            foreach (var part in given.Split(','))
            {
                // A range's dash follows a digit: "-3" alone is a negative number, refused as out of range.
                int dash = part.IndexOf('-', 1);
                string from = dash < 0 ? part.Trim() : part[..dash].Trim(), to = dash < 0 ? from : part[(dash + 1)..].Trim();
                if (!TryWhole(name, from, min, max, out long first, out _) || !TryWhole(name, to, min, max, out long last, out _) || last < first
                    || last - first >= 1_000_000 || values.Count + (last - first) >= 1_000_000)
                {
                    result.AddError(refusal);
                    return defaults;
                }
                for (long value = first; value <= last; value++)
                {
                    if (!seen.Add(value))
                    {
                        result.AddError(refusal);
                        return defaults;
                    }
                    values.Add(value);
                }
            }
            return values.ToArray();
        },
    };

    /// <summary>Whole numbers as a list with runs of consecutive ones written a-b: 1-24 for 1, 2, ..., 24.</summary>
    public static string Ranges(IEnumerable<long> values)
    {
        var parts = new List<string>();
        var list = values.ToList();
        for (int i = 0; i < list.Count;)
        {
            int j = i;
            while (j + 1 < list.Count && list[j + 1] == list[j] + 1) j++;
            parts.Add(j - i >= 2 ? $"{list[i]}-{list[j]}" : string.Join(",", list[i..(j + 1)]));
            i = j + 1;
        }
        return string.Join(",", parts);
    }

    /// <summary>A whole-number option whose value must lie in [min, max].</summary>
    public static Option<int> Count(string name, string description, int defaultValue, int min, int max = int.MaxValue)
        => Whole(name, description, defaultValue, min, max, v => (int)v);

    /// <summary>A 64-bit whole-number option (seeds) whose value must lie in [min, max].</summary>
    public static Option<long> Long(string name, string description, long defaultValue, long min, long max = long.MaxValue)
        => Whole(name, description, defaultValue, min, max, v => v);

    /// <summary>An optional whole-number option: absent means "let the library decide".</summary>
    public static Option<int?> OptionalCount(string name, string description, int min, int max) => new(name)
    {
        Description = $"{description} (range [{min}, {max}])",
        CustomParser = result =>
        {
            if (TryWhole(name, Given(result), min, max, out long value, out string? refusal)) return (int)value;
            result.AddError(refusal + ".");
            return null;
        },
    };

    /// <summary>An option that takes one of a fixed set of names, mapped to values.</summary>
    public static Option<T> OneOf<T>(string name, string description, string defaultName, IReadOnlyDictionary<string, T> choices)
    {
        string allowed = string.Join("|", choices.Keys);
        return new Option<T>(name)
        {
            Description = $"{description} ({allowed}, default {defaultName})",
            HelpName = allowed, // the names one types, not the type's members
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

    /// <summary>The --out option of a command that writes <paramref name="files"/>.</summary>
    public static Option<string?> Out(string files) =>
        new("--out") { Description = $"A new or empty folder for {files} (default: a new folder under runs/)" };

    /// <summary>The --force option: let --out name a folder that already holds results.</summary>
    public static Option<bool> Force() =>
        new("--force") { Description = "Replace this command's results in an --out folder that already has some (other files there are left alone)" };

    private static Option<T> Whole<T>(string name, string description, T defaultValue, long min, long max, Func<long, T> convert) => new(name)
    {
        Description = $"{description} (range [{min}, {max}], default {defaultValue})",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            if (TryWhole(name, Given(result), min, max, out long value, out string? refusal)) return convert(value);
            result.AddError(refusal + ".");
            return defaultValue;
        },
    };

    /// <summary>
    /// Reads a finite number in <paramref name="range"/>, or says in one line why <paramref name="given"/> is not
    /// one, naming <paramref name="name"/> as the caller spells it (an option, an API parameter), the range and the
    /// value: the rule every setting follows (<see cref="Refusal.Number(string, Interval, string)"/>).
    /// </summary>
    public static bool TryNumber(string name, string given, Interval range, out double value, out string? refusal)
    {
        bool ok = double.TryParse(given, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && range.Contains(value);
        refusal = ok ? null : Refusal.Number(name, range, given).Say("");
        return ok;
    }

    /// <summary>Reads a whole number in [<paramref name="min"/>, <paramref name="max"/>], or says in one line why not (<see cref="Refusal.Whole"/>).</summary>
    public static bool TryWhole(string name, string given, long min, long max, out long value, out string? refusal)
    {
        bool ok = long.TryParse(given, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
        refusal = ok ? null : Refusal.Whole(name, min, max, given).Say("");
        return ok;
    }

    private static string Given(System.CommandLine.Parsing.ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
}
