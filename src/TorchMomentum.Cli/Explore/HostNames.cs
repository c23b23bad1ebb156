using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// The names a request's Host header may give the explore server, with or without a port: those of the address
/// it listens on. A web page elsewhere can make its own name resolve to this machine (DNS rebinding) and so
/// reach the server from the user's browser, but its requests then carry its own name, and are refused.
/// </summary>
public static class HostNames
{
    private static readonly string[] Loopback = ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>
    /// The names for a server listening on <paramref name="address"/>: a loopback address answers to
    /// localhost, 127.0.0.1, [::1] and itself; another address to itself alone; the any-address (0.0.0.0 or
    /// [::], every interface) to the loopback names, this machine's host name and the addresses of all its
    /// interfaces, as they are when the server starts.
    /// </summary>
    public static IReadOnlyList<string> Of(IPAddress address)
    {
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
            return [.. Loopback.Concat([Dns.GetHostName()]).Concat(InterfaceAddresses().Select(Literal)).Distinct(StringComparer.OrdinalIgnoreCase)];
        if (IPAddress.IsLoopback(address)) return [.. Loopback.Append(Literal(address)).Distinct(StringComparer.OrdinalIgnoreCase)];
        return [Literal(address)];
    }

    /// <summary>Whether <paramref name="host"/> (a Host header, perhaps with a port) is one of <paramref name="names"/>.</summary>
    public static bool Allows(IReadOnlyList<string> names, string host) =>
        host.Length > 0 && HostString.MatchesAny(new StringSegment(host), [.. names.Select(n => new StringSegment(n))]);

    /// <summary>The one line a refused request gets: the header's value and the names allowed.</summary>
    public static string Refusal(IReadOnlyList<string> names, string host) =>
        $"Host must be one of {string.Join(", ", names)}, with or without a port (got '{host}')";

    // As a Host header writes it: IPv6 in brackets, without a zone (browsers send none).
    private static string Literal(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6
        ? $"[{new IPAddress(address.GetAddressBytes())}]" : address.ToString();

    private static IEnumerable<IPAddress> InterfaceAddresses()
    {
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(u => u.Address).ToList();
        }
        catch (NetworkInformationException)
        {
            // Interfaces that cannot be listed: the loopback names and the host name remain.
            return [];
        }
    }
}
