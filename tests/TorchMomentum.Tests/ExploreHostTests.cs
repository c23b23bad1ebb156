using System.Net;
using System.Text.Json;
using TorchMomentum.Cli.Explore;

namespace TorchMomentum.Tests;

/// <summary>
/// The explore server answers only to the names of the address it listens on: a page elsewhere that makes its
/// own name resolve to 127.0.0.1 (DNS rebinding) sends that name as the Host header, and is refused.
/// </summary>
public sealed class ExploreHostTests : LoopbackExploreServer
{
    [Theory]
    [InlineData("evil.example")]
    [InlineData("evil.example:{port}")]
    [InlineData("127.0.0.1.evil.example:{port}")]
    [InlineData("localhost.evil.example")]
    [InlineData("evil-localhost")]
    [InlineData("127.0.0.2:{port}")]
    [InlineData("")]
    public async Task Another_host_name_is_refused_with_one_line_naming_it(string host)
    {
        host = host.Replace("{port}", url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        foreach (string target in new[] { "/", "/api/bowl?iterations=5", "/api/ratemap" })
        {
            var (status, answer) = await RawHttp.GetAsync(url, target, host);
            Assert.Equal(400, status);
            using var json = JsonDocument.Parse(RawHttp.Body(answer));
            Assert.Equal($"Host must be one of localhost, 127.0.0.1, [::1], with or without a port (got '{host}')", json.RootElement.GetProperty("error").GetString());
            Assert.DoesNotContain("Momentum, by hand", answer);
        }
    }

    [Theory]
    [InlineData("localhost:{port}")]
    [InlineData("127.0.0.1:{port}")]
    [InlineData("[::1]:{port}")]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    [InlineData("LocalHost:{port}")]
    public async Task The_names_of_the_loopback_address_are_answered(string host)
    {
        host = host.Replace("{port}", url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var (status, answer) = await RawHttp.GetAsync(url, "/", host);
        Assert.Equal(200, status);
        Assert.Contains("Momentum, by hand", answer);
    }

    [Fact]
    public async Task On_every_interface_it_answers_to_this_machines_names_and_prints_a_loopback_url()
    {
        // 0.0.0.0 is no name the server answers to (and would turn ASP.NET Core's host filter off), so the URL
        // to open is a loopback one.
        Assert.DoesNotContain("0.0.0.0", HostNames.Of(IPAddress.Any));
        Assert.DoesNotContain("[::]", HostNames.Of(IPAddress.IPv6Any));
        await using var everywhere = await ExploreServer.StartAsync(IPAddress.Any, 0, maxTrainings: 1);
        var any = new Uri(everywhere.Url);
        Assert.Equal("127.0.0.1", any.Host);
        Assert.Equal(200, (await RawHttp.GetAsync(any, "/")).Status);
        Assert.Equal(200, (await RawHttp.GetAsync(any, "/", $"{Dns.GetHostName()}:{any.Port}")).Status);
        Assert.Equal(400, (await RawHttp.GetAsync(any, "/", $"evil.example:{any.Port}")).Status);
    }

    [Fact]
    public void An_address_of_another_interface_answers_to_itself_alone()
    {
        Assert.Equal(["192.0.2.1"], HostNames.Of(IPAddress.Parse("192.0.2.1")));
        Assert.Equal(["[2001:db8::1]"], HostNames.Of(IPAddress.Parse("2001:db8::1")));
    }
}
