using Spectre.Console;
using TorchMomentum.Cli.CommandLine;

namespace TorchMomentum.Tests;

/// <summary>Runs the torchmomentum command line in this process, capturing what it prints.</summary>
internal static class CliRunner
{
    public static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        int exit = CliApp.Run(args, console, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}

/// <summary>A fresh temporary folder, deleted with everything in it when the test ends.</summary>
public sealed class TemporaryFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("torchmomentum-tests-").FullName;

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
