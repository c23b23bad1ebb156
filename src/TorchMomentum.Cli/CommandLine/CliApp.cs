using System.CommandLine;
using System.CommandLine.Help;
using Spectre.Console;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>The <c>torchmomentum</c> command line: its commands, parsing and error handling.</summary>
public static class CliApp
{
    /// <summary>The command's name, as users type it.</summary>
    public const string Name = "torchmomentum";

    /// <summary>
    /// Parses and runs one command line. Parse and validation errors print one line each on
    /// <paramref name="error"/> and return <see cref="ExitCodes.BadInput"/> before anything runs.
    /// </summary>
    public static int Run(string[] args, IAnsiConsole console, TextWriter output, TextWriter error)
    {
        // Named explicitly: the default would be the assembly's name, TorchMomentum.Cli.
        var root = new Command(Name, "The momentum method of the chapter, in C# and TorchSharp.")
        {
            new HelpOption(),
            new VersionOption(),
            TrainCommand.Create(console, error),
            VerifyCommand.Create(console, output),
            QuadraticCommand.Create(console, error),
            RateCommand.Create(console, error),
            VelocityCommand.Create(console, error),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) error.WriteLine(e.Message);
            return ExitCodes.BadInput;
        }
        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }
}
