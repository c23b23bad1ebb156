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
    private static readonly HashSet<string> Names = Assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).ToHashSet();
    private static readonly Dictionary<string, string> ContentTypes = new()
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".txt"] = "text/plain; charset=utf-8",
        [".md"] = "text/plain; charset=utf-8",
    };

    /// <summary>Answers a request for <paramref name="path"/> ("" is the page itself).</summary>
    public static IResult Handle(string? path)
    {
        string name = Prefix + (string.IsNullOrEmpty(path) ? "index.html" : path);
        if (!Names.Contains(name) || !ContentTypes.TryGetValue(Path.GetExtension(name), out var type)) return Results.NotFound();
        return Results.Stream(Assembly.GetManifestResourceStream(name)!, type);
    }
}
