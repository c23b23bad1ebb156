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
        error.WriteLine(reason);
        return BadInput;
    }
}
