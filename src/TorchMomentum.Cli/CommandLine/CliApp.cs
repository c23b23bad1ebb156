using System.CommandLine;
using System.CommandLine.Help;
using Spectre.Console;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>--version: this build's version (Directory.Build.props) with the TorchSharp and libtorch it runs on.</summary>
internal sealed class PrintVersion(TextWriter output) : System.CommandLine.Invocation.SynchronousCommandLineAction
{
    public override int Invoke(ParseResult parseResult)
    {
        string ours = typeof(PrintVersion).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion.Split('+')[0];
        output.WriteLine($"{CliApp.Name} {ours} (TorchSharp {BuildInfo.TorchSharpVersion}, libtorch {TorchSharp.torch.__version__}, {BuildInfo.TorchBackend} backend)");
        return ExitCodes.Ok;
    }
}

/// <summary>
/// --help without System.CommandLine's own "[default: X]": every option says its default in its description, in the
/// words one types (float32, 1,2,3,4), where the parser would add the value's .NET spelling (Float32, 1|2|3|4).
/// Lines are not wrapped here; the terminal wraps them.
/// </summary>
internal sealed class HelpWithOurDefaults : System.CommandLine.Invocation.SynchronousCommandLineAction
{
    public override int Invoke(ParseResult parseResult)
    {
        var configuration = parseResult.InvocationConfiguration;
        var output = configuration.Output;
        var text = new StringWriter();
        configuration.Output = text;
        try
        {
            new HelpAction { MaxWidth = int.MaxValue }.Invoke(parseResult);
        }
        finally
        {
            configuration.Output = output;
        }
        output.Write(System.Text.RegularExpressions.Regex.Replace(text.ToString(), @" \[default: [^\]\n]*\]", ""));
        return ExitCodes.Ok;
    }
}

/// <summary>The <c>torchmomentum</c> command line: its commands, parsing and error handling.</summary>
public static class CliApp
{
    /// <summary>The command's name, as users type it.</summary>
    public const string Name = "torchmomentum";

    /// <summary>
    /// Parses and runs one command line. A parse or validation error, an unknown command or none at all prints one
    /// line on <paramref name="error"/> and returns <see cref="ExitCodes.BadInput"/> before anything runs.
    /// </summary>
    public static int Run(string[] args, IAnsiConsole console, TextWriter output, TextWriter error)
    {
        // Named explicitly: the default would be the assembly's name, TorchMomentum.Cli.
        var root = new Command(Name, "The momentum method of the chapter, in C# and TorchSharp.")
        {
            new HelpOption { Action = new HelpWithOurDefaults() },
            new VersionOption { Action = new PrintVersion(output) },
            TrainCommand.Create(console, error),
            SweepCommand.Create(console, error),
            SweepCommand.CreateScaling(console, error),
            CurvatureCommand.Create(console, error),
            VerifyCommand.Create(console, output),
            QuadraticCommand.Create(console, error),
            RateCommand.Create(console, error),
            VelocityCommand.Create(console, error),
            NoiseCommand.Create(console, error),
            Explore.ExploreCommand.Create(output, error),
        };
        string commands = $"the commands are {string.Join(", ", root.Subcommands.Select(c => c.Name))}";
        // Without a command there is nothing to run: say what there is, instead of the parser's "Required command was not provided".
        root.SetAction(_ => ExitCodes.Refuse(error, $"{Name} needs a command; {commands} ({Name} --help says what each does)."));
        var parse = root.Parse(args);
        // A word where the command goes that names none: refused even with --help, whose root help would read
        // as if the word had been understood (and exit 0).
        if (parse.CommandResult.Command == root && parse.UnmatchedTokens.FirstOrDefault(t => !t.StartsWith('-')) is { } unknown)
            return ExitCodes.Refuse(error, $"unknown command '{unknown}'; {commands}.");
        // The first problem only: one line, and the others are often its echoes.
        if (parse.Errors.Count > 0) return ExitCodes.Refuse(error, parse.Errors[0].Message);
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (Exception e)
        {
            // What the checks before a run cannot foresee (a full disk, a native error, a bug): one line, no
            // trace. Every input is validated before any work, so this is never a user's mistake.
            // The innermost exception says what went wrong: "the type initializer threw" says only where.
            var cause = e.GetBaseException();
            error.WriteLine($"{Name}: {cause.GetType().Name}: {cause.Message.Split('\n')[0]}");
            // For whoever fixes it: the trace, only when asked for.
            if (Environment.GetEnvironmentVariable("TORCHMOMENTUM_TRACE") == "1") error.WriteLine(e);
            return ExitCodes.Failed;
        }
    }
}
