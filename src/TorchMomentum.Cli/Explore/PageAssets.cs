using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// The page and everything it loads (its script, its style, the vendored chart library), served from
/// resources embedded in this assembly: the page works offline and no request touches a file.
/// </summary>
public static class PageAssets
{
    private const string Prefix = "explore/";
    private static readonly Assembly Assembly = typeof(PageAssets).Assembly;
    // By path with '/', whatever separator the machine that built the assembly put in the resource names.
    private static readonly Dictionary<string, string> Names = Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).ToDictionary(n => n.Replace('\\', '/'));
    private static readonly Dictionary<string, string> ContentTypes = new()
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".txt"] = "text/plain; charset=utf-8",
    };

    /// <summary>Answers a request for <paramref name="path"/> ("" is the page itself).</summary>
    public static IResult Handle(string? path)
    {
        string name = Prefix + (string.IsNullOrEmpty(path) ? "index.html" : path);
        if (!Names.TryGetValue(name, out var resource) || !ContentTypes.TryGetValue(Path.GetExtension(name), out var type)) return Results.NotFound();
        return Results.Stream(Assembly.GetManifestResourceStream(resource)!, type);
    }
}
