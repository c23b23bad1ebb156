using System.CommandLine;
using System.Diagnostics;
using System.Net;
using TorchMomentum.Cli.CommandLine;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// <c>torchmomentum explore</c>: a local web page where momentum is moved by hand (the bowl, the rate map,
/// the chapter's training live), every number computed by the library on this machine.
/// </summary>
public static class ExploreCommand
{
    /// <summary>Builds the command; the URL goes to <paramref name="output"/>, warnings and errors to <paramref name="error"/>.</summary>
    public static Command Create(TextWriter output, TextWriter error)
    {
        var host = new Option<string>("--host") { Description = "Address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every interface). The page answers only to the Host names of that address", DefaultValueFactory = _ => "127.0.0.1" };
        var port = Options.Count("--port", "Port to listen on; 0 picks a free one", 5117, 0, 65535);
        var open = new Option<bool>("--open") { Description = "Open the page in the default browser" };
        var maxTrainings = Options.Count("--max-trainings", "Trainings the server runs at once; more are refused with HTTP 429", 4, 1, 16);
        var command = new Command("explore", "Serve a local page where momentum can be moved by hand, driven by the real optimizer.")
        {
            host, port, open, maxTrainings,
        };
        command.SetAction(parse =>
        {
            string given = parse.GetValue(host)!;
            if (Address(given) is not { } address)
                return ExitCodes.Refuse(error, $"--host must be an IP address or localhost (got '{given}').");
            // Every tensor here is tiny, too small for libtorch to split an operation across threads; one thread
            // per operation leaves the other cores to the other requests instead of oversubscribing them.
            TorchSharp.torch.set_num_threads(1);
            ExploreServer server;
            try
            {
                server = ExploreServer.StartAsync(address, parse.GetValue(port), parse.GetValue(maxTrainings)).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
            {
                // In use, not an address of this machine, or a privileged port.
                return ExitCodes.Refuse(error, $"--host {given} --port {parse.GetValue(port)} cannot be listened on ({e.Message.Split('\n')[0]}); choose another port (--port 0 picks a free one) or an address of this machine.");
            }
            output.WriteLine(server.Url);
            output.Flush();
            if (!IPAddress.IsLoopback(address))
                error.WriteLine($"warning: --host {given} makes the page reachable from the network, without any password, by the names {string.Join(", ", HostNames.Of(address))}; Ctrl+C stops it.");
            if (parse.GetValue(open)) Open(server.Url, error);
            server.WaitForShutdownAsync().GetAwaiter().GetResult();
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return ExitCodes.Ok;
        });
        return command;
    }

    private static IPAddress? Address(string host) =>
        host == "localhost" ? IPAddress.Loopback : IPAddress.TryParse(host, out var address) ? address : null;

    private static void Open(string url, TextWriter error)
    {
        try
        {
            Process.Start(new ProcessStartInfo(url) { UseShellExecute = true })?.Dispose();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            error.WriteLine($"--open: no browser could be started ({e.Message}); open {url} by hand.");
        }
    }
}
