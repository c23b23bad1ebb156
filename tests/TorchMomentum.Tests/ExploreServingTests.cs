using System.Net;
using TorchMomentum.Cli.Explore;

namespace TorchMomentum.Tests;

/// <summary>
/// What the explore server serves: its embedded page, script, style and chart library, and nothing else,
/// however a request's path is written. Raw requests on a socket, since HttpClient would clean the paths.
/// </summary>
public sealed class ExploreServingTests : LoopbackExploreServer
{
    [Theory]
    [InlineData("/", "Momentum, by hand")]
    [InlineData("/index.html", "vendor/plotly-cartesian.min.js")]
    [InlineData("/explore.js", "MomentumSgd")]
    [InlineData("/explore.css", "font-family")]
    [InlineData("/vendor/plotly-cartesian.min.js", "plotly.js")]
    [InlineData("/vendor/plotly-LICENSE.txt", "MIT")]
    public async Task The_page_and_its_assets_are_served(string target, string content)
    {
        var (status, answer) = await RawHttp.GetAsync(url, target);
        Assert.Equal(200, status);
        Assert.Contains(content, answer);
    }

    // What must never be in an answer: /etc/passwd, the files beside the server's assembly, and the
    // source folder's files that are not assets (the vendor README is left out of the assembly).
    private static readonly string[] Outside = ["root:", "runtimeTarget", "This program cannot be run in DOS mode", "Vendored front-end code"];

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("/../../etc/passwd")]
    [InlineData("/../../../../../../../../etc/passwd")]
    [InlineData("/%2e%2e/%2e%2e/etc/passwd")]
    [InlineData("/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd")]
    [InlineData("/.%2e/.%2e/.%2e/.%2e/.%2e/.%2e/.%2e/.%2e/etc/passwd")]
    [InlineData("/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd")]
    [InlineData("/..%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/%252e%252e/%252e%252e/%252e%252e/%252e%252e/%252e%252e/%252e%252e/%252e%252e/%252e%252e/etc/passwd")]
    [InlineData(@"/..\..\..\..\..\..\..\..\etc\passwd")]
    [InlineData("/..%5c..%5c..%5c..%5c..%5c..%5c..%5c..%5cetc%5cpasswd")]
    [InlineData("//etc/passwd")]
    [InlineData("/%2fetc%2fpasswd")]
    [InlineData("/%2Fetc/passwd")]
    [InlineData("/vendor/../../etc/passwd")]
    [InlineData("/vendor/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc/passwd")]
    [InlineData("/....//....//....//....//....//....//....//....//etc/passwd")]
    [InlineData("/file:///etc/passwd")]
    [InlineData("absolute-form:/../etc/passwd")]
    [InlineData("absolute-form:/../../../../etc/passwd")]
    [InlineData("absolute-form:/%2e%2e/%2e%2e/etc/passwd")]
    [InlineData("/TorchMomentum.Cli.deps.json")]
    [InlineData("/TorchMomentum.Cli.dll")]
    [InlineData("/../TorchMomentum.Cli.deps.json")]
    [InlineData("/%2e%2e/TorchMomentum.Cli.deps.json")]
    [InlineData("/..%2fTorchMomentum.Cli.deps.json")]
    [InlineData("/vendor/..%2f..%2fTorchMomentum.Cli.deps.json")]
    [InlineData("/explore/../TorchMomentum.Cli.deps.json")]
    [InlineData("/vendor/../../TorchMomentum.Cli.dll")]
    [InlineData("/vendor/README.md")]
    [InlineData("/Explore/wwwroot/vendor/README.md")]
    public async Task A_path_outside_the_assets_is_not_found_however_it_is_written(string target)
    {
        // The absolute form (RFC 9112 3.2.2), as sent to a proxy: http://host:port/path.
        if (target.StartsWith("absolute-form:", StringComparison.Ordinal)) target = $"http://{url.Authority}{target["absolute-form:".Length..]}";
        var (status, answer) = await RawHttp.GetAsync(url, target);
        Assert.True(status is 400 or 404, $"GET {target}: HTTP {status}\n{answer[..Math.Min(answer.Length, 300)]}");
        foreach (string content in Outside) Assert.DoesNotContain(content, answer);
    }

    [Fact]
    public async Task Dot_segments_that_stay_inside_lead_to_the_asset_itself()
    {
        // The URL's own rule (RFC 3986 5.2.4): /vendor/../../explore.js is /explore.js, never a folder above.
        var (_, script) = await RawHttp.GetAsync(url, "/explore.js");
        var (status, answer) = await RawHttp.GetAsync(url, "/vendor/../../explore.js");
        Assert.Equal(200, status); // Kestrel removes the dot segments before routing
        Assert.Equal(RawHttp.Body(script), RawHttp.Body(answer));
    }

    [Theory]
    [InlineData("/api/bowl?lr=", 10_000)] // one value of 10,000 characters
    [InlineData("/api/bowl?", 2_000)] // 2,000 parameters
    public async Task A_query_too_long_is_one_line_of_json_not_an_empty_answer(string start, int size)
    {
        string target = start + (size == 2_000 ? string.Join('&', Enumerable.Range(0, size).Select(i => $"p{i}=1")) : new string('1', size));
        var (status, answer) = await RawHttp.GetAsync(url, target);
        Assert.Equal(414, status);
        var error = System.Text.Json.JsonDocument.Parse(RawHttp.Body(answer)).RootElement.GetProperty("error").GetString();
        Assert.StartsWith($"414 uri too long: the query must be at most {ExploreServer.MaxQueryLength} characters (got ", error);
    }
}
