using System.Runtime.InteropServices;
using Spectre.Console;
using TorchMomentum.Cli.CommandLine;

int exit = CliApp.Run(args, AnsiConsole.Console, Console.Out, Console.Error);
// Every file is written and closed by now. What a normal exit would still do is run libtorch's static destructors,
// which unregister its thousands of operators one by one: 70 to 90 ms of every command (measured with `train`),
// for nothing, as the process is ending. So once the output is flushed, end without them (as clang does).
Console.Out.Flush();
Console.Error.Flush();
if (!OperatingSystem.IsWindows()) ExitNow(exit);
return exit;

[DllImport("libc", EntryPoint = "_exit")]
static extern void ExitNow(int status);
