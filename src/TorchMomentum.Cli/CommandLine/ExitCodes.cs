namespace TorchMomentum.Cli.CommandLine;

/// <summary>The process exit codes of every command.</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Ok = 0;
    /// <summary>A check failed (a verification out of tolerance) or the run met an error it could not foresee (a full disk).</summary>
    public const int Failed = 1;
    /// <summary>Bad input: an option out of range, an unknown option, an unusable device or folder. Nothing was written.</summary>
    public const int BadInput = 2;
    /// <summary>
    /// Training stopped because a loss became NaN or infinite, or a path of <c>quadratic</c> ran off to infinity;
    /// the results up to there were kept.
    /// </summary>
    public const int Diverged = 3;
    /// <summary>Stopped by Ctrl+C (SIGINT), as shells number it (128 + 2); what was written is kept and said.</summary>
    public const int Interrupted = 130;
    /// <summary>Stopped by SIGTERM (128 + 15); what was written is kept and said.</summary>
    public const int Terminated = 143;

    /// <summary>Says why the input is refused, in one line on <paramref name="error"/>, and returns <see cref="BadInput"/>.</summary>
    public static int Refuse(TextWriter error, string? reason)
    {
        error.WriteLine(OneLine(reason ?? ""));
        return BadInput;
    }

    /// <summary>
    /// A message as one line that ends in one period: a control character in it (a newline in a value the user
    /// typed) is shown escaped, as \n, and a sentence that quotes an exception's own period ends once.
    /// </summary>
    public static string OneLine(string message)
    {
        var line = new System.Text.StringBuilder(message.Length);
        foreach (char c in message.TrimEnd('\n', '\r'))
            line.Append(c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ when char.IsControl(c) => $"\\u{(int)c:x4}", _ => c.ToString() });
        if (line.Length > 2 && line[^1] == '.' && line[^2] == '.' && line[^3] != '.') line.Length--; // "..", not an ellipsis
        return line.ToString();
    }
}
