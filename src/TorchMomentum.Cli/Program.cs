using Spectre.Console;
using TorchMomentum.Cli.CommandLine;

return CliApp.Run(args, AnsiConsole.Console, Console.Out, Console.Error);
