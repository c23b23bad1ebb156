using System.Net.Sockets;
using System.Text;

namespace TorchMomentum.Tests;

/// <summary>
/// HTTP/1.1 requests written byte for byte on a socket. HttpClient normalises what it sends (dot segments
/// removed, escapes changed, the Host header its own), so it cannot try what a hostile client would send.
/// </summary>
internal static class RawHttp
{
    /// <summary>A GET of <paramref name="target"/> (as written) with <paramref name="host"/> as the Host header.</summary>
    /// <returns>The status code and the whole answer, headers and body, as text.</returns>
    public static async Task<(int Status, string Answer)> GetAsync(Uri server, string target, string? host = null)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await client.ConnectAsync(server.Host, server.Port, timeout.Token);
        var stream = client.GetStream();
        string request = $"GET {target} HTTP/1.1\r\nHost: {host ?? server.Authority}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request), timeout.Token);
        using var answer = new MemoryStream();
        await stream.CopyToAsync(answer, timeout.Token);
        string text = Encoding.Latin1.GetString(answer.ToArray());
        // "HTTP/1.1 404 Not Found": the code is the second word of the status line.
        string[] statusLine = text.Split("\r\n", 2)[0].Split(' ');
        Assert.True(statusLine.Length >= 2 && statusLine[0].StartsWith("HTTP/", StringComparison.Ordinal), $"no status line in '{text}'");
        return (int.Parse(statusLine[1], System.Globalization.CultureInfo.InvariantCulture), text);
    }

    /// <summary>The body of an answer from <see cref="GetAsync"/>, its chunks joined when it came in chunks.</summary>
    public static string Body(string answer)
    {
        int end = answer.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        string headers = answer[..end], body = answer[(end + 4)..];
        if (!headers.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase)) return body;
        // Each chunk: its size in hex, CRLF, the bytes, CRLF; a chunk of size 0 ends the body.
        var joined = new StringBuilder();
        for (int at = 0; ;)
        {
            int line = body.IndexOf("\r\n", at, StringComparison.Ordinal);
            int size = Convert.ToInt32(body[at..line].Split(';')[0], 16);
            if (size == 0) return joined.ToString();
            joined.Append(body, line + 2, size);
            at = line + 2 + size + 2;
        }
    }
}
