using System.Globalization;
using TorchMomentum.Validation;

namespace TorchMomentum.Training;

/// <summary>
/// A setting of one contestant's optimizer that a run can change (QHM's nu, Lion's lr), with its default.
/// </summary>
/// <param name="Name">Its name: the library's parameter name (nu, betas, small_const), so a refusal names both.</param>
/// <param name="Default">Its value when the run does not set it, from the run's settings (QHM's lr is lr/(1 - momentum)).</param>
/// <param name="IsList">Whether it takes several numbers, written with ':' (AggMo's betas 0:0.9:0.99).</param>
/// <param name="Rule">How the default follows from the run's settings, for --help (lr/(1-momentum)); null for a fixed one.</param>
public sealed record Knob(string Name, Func<ExperimentSettings, double> Default, bool IsList = false, string? Rule = null)
{
    /// <summary>A list-valued knob's default.</summary>
    public Func<ExperimentSettings, double[]>? DefaultList { get; init; }

    /// <summary>The default as --help says it: its rule, or its value with <paramref name="settings"/>.</summary>
    public string DefaultText(ExperimentSettings settings) => Rule ?? (IsList
        ? string.Join(":", DefaultList!(settings).Select(v => v.ToString(CultureInfo.InvariantCulture)))
        : Default(settings).ToString(CultureInfo.InvariantCulture));
}

/// <summary>The knobs of one contestant in one run: what its optimizer is built with.</summary>
/// <param name="Settings">The run's settings.</param>
/// <param name="Contestant">The contestant.</param>
public sealed record KnobValues(ExperimentSettings Settings, string Contestant)
{
    /// <summary>The number knob <paramref name="name"/> has: set in <see cref="ExperimentSettings.ContestantSettings"/>, or its default.</summary>
    public double this[string name] => List(name)[0];

    /// <summary>The numbers of knob <paramref name="name"/>.</summary>
    public double[] List(string name)
    {
        if (ContestantSettings.Parse(Settings.ContestantSettings).Values.TryGetValue((Contestant, name), out var given)) return given;
        var knob = ContestantKinds.Of(Contestant).Knobs.Single(k => k.Name == name);
        return knob.IsList ? knob.DefaultList!(Settings) : [knob.Default(Settings)];
    }
}

/// <summary>
/// The run's contestant settings, written <c>qhm.nu=0.5,aggmo.betas=0:0.9:0.99,lion.lr=3e-4</c>: each a raced
/// contestant's knob (<see cref="ContestantKind.Knobs"/>) and its value. Ranges are the optimizers' own: a value
/// is checked by building the optimizer with it, so each range is written once, in the library.
/// </summary>
public static class ContestantSettings
{
    /// <summary>The parsed settings, or why they cannot be read.</summary>
    /// <param name="Values">Each (contestant, knob) set, with its numbers.</param>
    /// <param name="Problem">What is wrong with the text, or null.</param>
    public sealed record Parsed(IReadOnlyDictionary<(string Contestant, string Knob), double[]> Values, Refusal? Problem);

    /// <summary>Most numbers a list knob takes (AggMo's betas: a checkpoint keeps as many buffers per parameter).</summary>
    public const int MaxListLength = 8;

    private static readonly Dictionary<string, Parsed> Cache = [];

    /// <summary>Reads <paramref name="text"/>; <see cref="Parsed.Problem"/> says what is wrong with it, if anything.</summary>
    public static Parsed Parse(string text)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(text, out var known)) return known;
            var parsed = Read(text);
            if (Cache.Count > 64) Cache.Clear();
            return Cache[text] = parsed;
        }
    }

    private static Parsed Read(string text)
    {
        var values = new Dictionary<(string, string), double[]>();
        Parsed Refused(string why) => new(values, new Refusal($"{Refusal.Name("contestant-settings")} {why} (got '{Refusal.Given(text)}')"));
        if (text.Length == 0) return new(values, null);
        foreach (var item in text.Split(','))
        {
            int dot = item.IndexOf('.'), equals = item.IndexOf('=');
            if (dot <= 0 || equals <= dot + 1) return Refused($"must be a comma-separated list of contestant.knob=value, such as qhm.nu=0.5; '{Refusal.Given(item)}' is not");
            string contestant = item[..dot], name = item[(dot + 1)..equals], value = item[(equals + 1)..];
            if (!ContestantNames.All.Contains(contestant)) return Refused($"names no contestant '{Refusal.Given(contestant)}'");
            var knobs = ContestantKinds.Of(contestant).Knobs;
            if (knobs.FirstOrDefault(k => k.Name == name) is not { } knob)
                return Refused(knobs.Count == 0 ? $"sets '{Refusal.Given(name)}', but {contestant} has no settings"
                    : $"sets '{Refusal.Given(name)}', which {contestant} does not have; it has {string.Join(", ", knobs.Select(k => k.Name))}");
            if (values.ContainsKey((contestant, name))) return Refused($"sets {contestant}.{name} twice");
            var parts = knob.IsList ? value.Split(':') : [value];
            if (parts.Length > MaxListLength) return Refused($"sets {contestant}.{name} to {parts.Length} numbers; at most {MaxListLength}");
            var numbers = new double[parts.Length];
            for (int i = 0; i < parts.Length; i++)
                if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[i]) || !double.IsFinite(numbers[i]))
                    return Refused($"sets {contestant}.{name} to '{Refusal.Given(value)}', which is not {(knob.IsList ? "a ':'-separated list of numbers" : "a number")}");
            values[(contestant, name)] = numbers;
        }
        return new(values, null);
    }

    /// <summary>
    /// What is wrong with the run's contestant settings, or null: unreadable, a contestant the run does not race, or
    /// a value its optimizer refuses (built once on a one-number parameter, which checks every range the library has).
    /// </summary>
    public static Refusal? Problem(ExperimentSettings settings)
    {
        var parsed = Parse(settings.ContestantSettings);
        if (parsed.Problem is { } unreadable) return unreadable;
        var raced = settings.ContestantList;
        if (parsed.Values.Keys.FirstOrDefault(k => !raced.Contains(k.Contestant)) is { Contestant: not null } unraced)
            return new Refusal($"{Refusal.Name("contestant-settings")} sets {unraced.Contestant}.{unraced.Knob}, but the run does not race {unraced.Contestant} (contestants: {settings.Contestants})");
        foreach (var name in raced)
        {
            var kind = ContestantKinds.Of(name);
            if (kind.Knobs.Count == 0) continue;
            try
            {
                kind.Probe(settings);
            }
            catch (ArgumentException e)
            {
                // The library's one line names the parameter; say which contestant's it is.
                return new Refusal($"{Refusal.Name("contestant-settings")} {name}.{Refusal.Given(e.Message.Split(" (Parameter")[0])}");
            }
        }
        return null;
    }
}
