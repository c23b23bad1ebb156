using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TorchMomentum.Cli.CommandLine;

namespace TorchMomentum.Tests;

/// <summary>`torchmomentum explore` as a user starts and stops it.</summary>
public class ExploreCommandTests
{
    [Fact]
    public async Task It_prints_its_url_first_serves_the_page_and_stops_cleanly_on_sigterm()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "sends SIGTERM with kill");
        using var process = Process.Start(CliRunner.Process(["explore", "--port", "0"]))!;
        process.BeginErrorReadLine();
        string? url = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Matches(@"^http://127\.0\.0\.1:\d+/$", url);
        using (var client = new HttpClient())
            Assert.Contains("Momentum, by hand", await client.GetStringAsync(url));

        Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(10)), "explore did not stop on SIGTERM");
        Assert.Equal(ExitCodes.Ok, process.ExitCode);
    }

    [Fact]
    public void A_host_that_is_no_address_is_refused()
    {
        var (exit, _, error) = CliRunner.Run("explore", "--host", "my laptop");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--host must be an IP address or localhost (got 'my laptop')", error);
    }

    [Fact]
    public void A_port_in_use_is_refused_with_one_line()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var (exit, _, error) = CliRunner.Run("explore", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains($"--port {port} cannot be listened on", error);
    }

    [Fact]
    public void An_address_of_another_machine_is_refused_with_one_line()
    {
        var (exit, _, error) = CliRunner.Run("explore", "--host", "192.0.2.1", "--port", "0");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("--host 192.0.2.1 --port 0 cannot be listened on", error);
    }
}
