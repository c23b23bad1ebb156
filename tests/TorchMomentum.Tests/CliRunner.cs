using System.Diagnostics;
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

    /// <summary>Runs the command line and checks that it refused: exit 2, one line saying <paramref name="message"/>, nothing made at <paramref name="folder"/>.</summary>
    public static void Refused(string[] args, string message, string folder)
    {
        var (exit, _, error) = Run(args);
        Xunit.Assert.Equal(ExitCodes.BadInput, exit);
        Xunit.Assert.Contains(message, error);
        Xunit.Assert.Single(error.TrimEnd().Split('\n'));
        Xunit.Assert.False(Directory.Exists(folder));
    }

    /// <summary>
    /// Runs the built command line as a child process and captures what it prints: for the tests that must not touch
    /// this process's torch (<see cref="ChildProcessesOnly"/>). Gives it two minutes.
    /// </summary>
    public static (int Exit, string Output, string Error) RunChild(params string[] args)
    {
        using var process = System.Diagnostics.Process.Start(Process(args))!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Xunit.Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), $"torchmomentum {string.Join(' ', args)} did not end within two minutes");
        return (process.ExitCode, output, error.Result);
    }

    /// <summary>The built command line in its own build folder (see the test project's CommandLineBuildFolder).</summary>
    public static string Dll { get; } = typeof(CliRunner).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "CommandLineDll").Value!;

    /// <summary>
    /// How to run the built command line as a child process, with its outputs redirected; with
    /// <paramref name="shellPrefix"/>, bash runs that first and then execs it (to set a ulimit, a trap).
    /// </summary>
    public static ProcessStartInfo Process(IEnumerable<string> args, string? shellPrefix = null)
    {
        string dll = Dll;
        var start = shellPrefix is null ? new ProcessStartInfo("dotnet") : new ProcessStartInfo("bash") { ArgumentList = { "-c", $"{shellPrefix}; exec dotnet \"$0\" \"$@\"" } };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        return start;
    }
}

/// <summary>What a run folder holds for its user: every file's name, in order, but the lock file every run folder keeps.</summary>
internal static class RunFolderFiles
{
    public static string[] Of(string folder) => Directory.GetFiles(folder).Select(f => Path.GetFileName(f))
        .Where(name => name != TorchMomentum.Cli.Output.RunFolder.LockFileName).Order(StringComparer.Ordinal).ToArray();
}

/// <summary>A fresh temporary folder, deleted with everything in it when the test ends.</summary>
public sealed class TemporaryFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("torchmomentum-tests-").FullName;

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
