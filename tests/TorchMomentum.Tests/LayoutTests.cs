using System.Text.RegularExpressions;
using TorchMomentum.Shared;

namespace TorchMomentum.Tests;

/// <summary>The folders' dependencies go one way, as docs/layout.md draws them: a source file's names of another folder's namespace are read from its text.</summary>
public sealed class LayoutTests
{
    private static readonly string Root = PythonScripts.RepositoryRoot();

    /// <summary>The files of <paramref name="folder"/> that name namespace <paramref name="other"/> (a using, or a name qualified by it).</summary>
    private static string[] Naming(string folder, string other) =>
        [.. Directory.GetFiles(Path.Combine(Root, folder), "*.cs", SearchOption.AllDirectories)
            .Where(f => Regex.IsMatch(File.ReadAllText(f), $@"\b{Regex.Escape(other)}\b"))
            .Select(f => Path.GetRelativePath(Root, f))];

    [Fact]
    public void What_renders_results_does_not_reach_into_the_command_line()
    {
        // Output/ renders and owns run folders; CommandLine/ parses and decides exit codes, calling Output/, not the reverse.
        Assert.Empty(Naming("src/TorchMomentum.Cli/Output", "CommandLine"));
    }

    [Fact]
    public void The_sweeps_use_the_curvature_and_not_the_reverse()
    {
        // The batch-size study fits the curvature's quadratic model; the curvature needs only the net's math (Model/).
        Assert.Empty(Naming("src/TorchMomentum/Curvature", "Sweeps"));
        Assert.Empty(Naming("src/TorchMomentum/Model", "Sweeps"));
        Assert.Empty(Naming("src/TorchMomentum/Model", "Curvature"));
    }
}
