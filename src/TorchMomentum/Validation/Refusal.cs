using System.Globalization;
using System.Text.RegularExpressions;

namespace TorchMomentum.Validation;

/// <summary>
/// Why a setting is refused, written once for every front end: the setting, its range and the value given. Its text
/// names settings by their plain names in ‹ › (‹lr-min›); each front end says them in its own words with
/// <see cref="Say"/>: the command line as its options (--lr-min, <see cref="ForCommandLine"/>), the explore API as
/// its query parameters (lr-min, <see cref="ForApi"/>).
/// </summary>
/// <param name="Template">The text, with every setting's name in ‹ ›.</param>
public readonly partial record struct Refusal(string Template)
{
    /// <summary>A setting's name as a template writes it.</summary>
    public static string Name(string setting) => $"‹{setting}›";

    /// <summary>
    /// Text the user gave, as a template holds it: its own ‹ and › stand in for themselves and are never taken for a
    /// setting's name (they are kept as two private-use characters until <see cref="Say"/>).
    /// </summary>
    public static string Given(string text) => text.Replace('‹', '\uE000').Replace('›', '\uE001');

    /// <summary>The rule every number follows: <paramref name="setting"/> must be a number in <paramref name="range"/>.</summary>
    public static Refusal Number(string setting, Interval range, string given) => new($"{Name(setting)} must be a number in {range} (got '{Given(given)}')");

    /// <summary>The same, for a value already read as a double.</summary>
    public static Refusal Number(string setting, Interval range, double given) => Number(setting, range, given.ToString("R", CultureInfo.InvariantCulture));

    /// <summary>The rule every whole number follows: <paramref name="setting"/> must be a whole number in [min, max].</summary>
    public static Refusal Whole(string setting, long min, long max, string given) => new($"{Name(setting)} must be a whole number in [{min}, {max}] (got '{Given(given)}')");

    /// <summary>The refusal of <paramref name="value"/> for <paramref name="setting"/>, or null when <paramref name="range"/> holds it.</summary>
    public static Refusal? Check(string setting, Interval range, double value) => range.Contains(value) ? null : Number(setting, range, value);

    /// <summary>The refusal of <paramref name="value"/> for <paramref name="setting"/>, or null when it lies in [min, max].</summary>
    public static Refusal? Check(string setting, long min, long max, long value) =>
        value >= min && value <= max ? null : Whole(setting, min, max, value.ToString(CultureInfo.InvariantCulture));

    /// <summary>The text with each setting's name after <paramref name="prefix"/>.</summary>
    public string Say(string prefix) => Names().Replace(Template, m => prefix + m.Groups[1].Value).Replace('\uE000', '‹').Replace('\uE001', '›');

    /// <summary>As the command line says it: --lr-min.</summary>
    public string ForCommandLine => Say("--");

    /// <summary>As the explore API and the library's parameters say it: lr-min.</summary>
    public string ForApi => Say("");

    /// <inheritdoc />
    public override string ToString() => ForCommandLine;

    [GeneratedRegex("‹([^›]*)›")]
    private static partial Regex Names();
}
