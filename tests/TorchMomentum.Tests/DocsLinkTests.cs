using System.Text.RegularExpressions;
using TorchMomentum.Shared;

namespace TorchMomentum.Tests;

/// <summary>
/// The README a newcomer reads stays short, and it and the pages in docs/ point only at files and folders that
/// exist: every relative markdown link <c>[text](target)</c>, image <c>![alt](target)</c> and reference
/// definition <c>[name]: target</c>, and each #fragment, of another page or the same one, names a heading there (as
/// GitHub makes a heading's anchor) or an element's id. Web and mail links (http:, https:, mailto:) are not checked.
/// </summary>
public sealed partial class DocsLinkTests
{
    /// <summary>The most lines the README may have.</summary>
    public const int ReadmeMaxLines = 150;

    private static readonly string Root = PythonScripts.RepositoryRoot();

    /// <summary>README.md and every page under docs/, relative to the repository root.</summary>
    private static IEnumerable<string> Documents() =>
        new[] { Path.Combine(Root, "README.md") }
            .Concat(Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal));

    // A link or image: [text](target) or ![alt](target), the target optionally in <...> and followed by a "title".
    [GeneratedRegex("""!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(?:<(?<target>[^>]*)>|(?<target>[^)\s]+))(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)""")]
    private static partial Regex InlineLink();

    // A reference definition: [name]: target
    [GeneratedRegex("""^ {0,3}\[[^\]]+\]:\s*<?(?<target>[^>\s]+)>?""", RegexOptions.Multiline)]
    private static partial Regex ReferenceDefinition();

    // Code is not markdown: fenced blocks and inline code spans are blanked (line breaks kept, for line numbers).
    [GeneratedRegex("""^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$""", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedCode();

    [GeneratedRegex("`+[^`\n]*`+")]
    private static partial Regex InlineCode();

    [GeneratedRegex("^(?:https?|mailto):", RegexOptions.IgnoreCase)]
    private static partial Regex External();

    /// <summary>The markdown with its fenced code blocks blanked, their line breaks kept (for line numbers).</summary>
    private static string WithoutFences(string markdown) => FencedCode().Replace(markdown, m => new string('\n', m.Value.Count(c => c == '\n')));

    /// <summary>The markdown with all its code blanked: fenced blocks and inline spans.</summary>
    private static string WithoutCode(string markdown) => InlineCode().Replace(WithoutFences(markdown), "");

    /// <summary>Each relative link target in <paramref name="markdown"/>, with the line it is on.</summary>
    internal static IEnumerable<(int Line, string Target)> RelativeLinks(string markdown)
    {
        string text = WithoutCode(markdown);
        var matches = InlineLink().Matches(text).Concat(ReferenceDefinition().Matches(text));
        foreach (var match in matches.OrderBy(m => m.Index))
        {
            string target = match.Groups["target"].Value.Trim();
            if (target.Length == 0 || target.StartsWith('#') || External().IsMatch(target)) continue;
            int line = 1 + text.AsSpan(0, match.Index).Count('\n');
            yield return (line, target);
        }
    }

    /// <summary>Each link to an anchor of the same page (#...) in <paramref name="markdown"/>, with the line it is on.</summary>
    internal static IEnumerable<(int Line, string Target)> AnchorLinks(string markdown)
    {
        string text = WithoutCode(markdown);
        foreach (Match match in InlineLink().Matches(text))
        {
            string target = match.Groups["target"].Value.Trim();
            if (target.StartsWith('#')) yield return (1 + text.AsSpan(0, match.Index).Count('\n'), target);
        }
    }

    [GeneratedRegex("^ {0,3}#{1,6}[ \t]+(?<text>.+?)[ \t#]*$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex("\\b(?:id|name)=\"(?<id>[^\"]+)\"")]
    private static partial Regex ElementId();

    /// <summary>
    /// The anchors of a page, as GitHub makes them: each heading's text without its markdown, lower case, with
    /// everything but letters, digits, spaces, hyphens and underscores dropped and spaces made hyphens; a repeated one
    /// gets -1, -2, ...; and the ids of its HTML elements.
    /// </summary>
    internal static HashSet<string> Anchors(string markdown)
    {
        string text = WithoutFences(markdown); // a heading's inline code is part of its anchor
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match heading in Heading().Matches(text))
        {
            string plain = Regex.Replace(heading.Groups["text"].Value, @"!?\[([^\]]*)\]\([^)]*\)", "$1").Replace("`", "").Replace("*", "");
            string slug = new string(plain.ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_').ToArray()).Replace(' ', '-');
            string anchor = slug;
            for (int n = 1; !anchors.Add(anchor); n++) anchor = $"{slug}-{n}";
        }
        foreach (Match id in ElementId().Matches(markdown)) anchors.Add(id.Groups["id"].Value);
        return anchors;
    }

    /// <summary>Where <paramref name="target"/>, linked from <paramref name="document"/>, points on disk.</summary>
    private static string Resolve(string document, string target)
    {
        string path = Uri.UnescapeDataString(target.Split('#', 2)[0].Split('?', 2)[0]);
        // A link starting with / is relative to the repository's root, as GitHub reads it.
        string from = path.StartsWith('/') ? Root : Path.GetDirectoryName(document)!;
        return Path.GetFullPath(Path.Combine(from, path.TrimStart('/')));
    }

    [Fact]
    public void Every_relative_link_in_the_readme_and_docs_points_at_a_file_or_folder_that_exists()
    {
        var broken = new List<string>();
        int checkedLinks = 0;
        foreach (string document in Documents())
        {
            string name = Path.GetRelativePath(Root, document);
            foreach (var (line, target) in RelativeLinks(File.ReadAllText(document)))
            {
                checkedLinks++;
                string resolved = Resolve(document, target);
                if (!File.Exists(resolved) && !Directory.Exists(resolved))
                    broken.Add($"{name}:{line}: ({target}) points at {Path.GetRelativePath(Root, resolved)}, which does not exist");
                else if (target.Split('#', 2) is [_, var fragment] && resolved.EndsWith(".md", StringComparison.Ordinal) && !Anchors(File.ReadAllText(resolved)).Contains(fragment))
                    broken.Add($"{name}:{line}: ({target}): {Path.GetRelativePath(Root, resolved)} has no heading or id '{fragment}'");
            }
            var own = Anchors(File.ReadAllText(document));
            foreach (var (line, target) in AnchorLinks(File.ReadAllText(document)))
            {
                checkedLinks++;
                if (!own.Contains(target[1..])) broken.Add($"{name}:{line}: ({target}): this page has no heading or id '{target[1..]}'");
            }
        }
        Assert.True(broken.Count == 0, $"{broken.Count} broken link(s) in README.md or docs/:\n" + string.Join("\n", broken));
        Assert.True(checkedLinks > 0, "no relative links found in README.md or docs/: the link search itself is broken");
    }

    [Fact]
    public void The_readme_is_at_most_150_lines()
    {
        int lines = File.ReadAllLines(Path.Combine(Root, "README.md")).Length;
        Assert.True(lines <= ReadmeMaxLines,
            $"README.md has {lines} lines, more than {ReadmeMaxLines}: move the depth into docs/ and link to it.");
    }

    [Theory]
    [InlineData("[a](docs/train.md)", "docs/train.md")]
    [InlineData("![alt](docs/explore-train.png \"title\")", "docs/explore-train.png")]
    [InlineData("[a](<docs/a file.md>)", "docs/a file.md")]
    [InlineData("[a](train.md#exit-codes)", "train.md#exit-codes")]
    [InlineData("[`code` in text](x.md)", "x.md")]
    [InlineData("[name]: docs/ref.md", "docs/ref.md")]
    public void Relative_links_are_found(string markdown, string expected) =>
        Assert.Equal(new[] { (1, expected) }, RelativeLinks(markdown));

    [Theory]
    [InlineData("[a](https://example.com/x.md)")]
    [InlineData("[a](http://example.com)")]
    [InlineData("[a](mailto:someone@example.com)")]
    [InlineData("[a](#an-anchor)")]
    [InlineData("`[a](in-code.md)`")]
    [InlineData("```\n[a](in-a-fence.md)\n```")]
    public void Web_mail_anchor_and_code_links_are_left_alone(string markdown) =>
        Assert.Empty(RelativeLinks(markdown));

    [Theory]
    [InlineData("## Exit codes", "exit-codes")]
    [InlineData("## `torchmomentum quadratic` (5.4)", "torchmomentum-quadratic-54")]
    [InlineData("### `torchmomentum noise`: Distill's noisy gradients", "torchmomentum-noise-distills-noisy-gradients")]
    [InlineData("## [The tool](x.md) and more", "the-tool-and-more")]
    [InlineData("<a id=\"here\"></a>", "here")]
    public void Anchors_are_made_as_github_makes_them(string markdown, string anchor) => Assert.Contains(anchor, Anchors(markdown));

    [Fact]
    public void A_repeated_heading_gets_a_numbered_anchor() => Assert.Equal(["outputs", "outputs-1"], Anchors("## Outputs\n## Outputs").Order());
}
