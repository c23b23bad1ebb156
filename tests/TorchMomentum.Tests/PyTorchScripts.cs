using System.Diagnostics;

namespace TorchMomentum.Tests;

/// <summary>Runs the reference programs in scripts/ with Debian's python3-torch.</summary>
internal static class PyTorchScripts
{
    /// <summary>Runs scripts/<paramref name="script"/> and returns what it printed; fails the test if it fails.</summary>
    public static string Run(string script, IEnumerable<string> arguments, string? input = null)
    {
        string path = Path.Combine(RepositoryRoot(), "scripts", script);
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(path);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var python = Process.Start(start)!;
        python.StandardInput.Write(input ?? "");
        python.StandardInput.Close();
        var error = python.StandardError.ReadToEndAsync();
        string output = python.StandardOutput.ReadToEnd();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, $"{path} failed (it needs Debian's python3-torch): {error.Result}");
        return output;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TorchMomentum.sln"))) return dir.FullName;
        throw new InvalidOperationException("TorchMomentum.sln not found above " + AppContext.BaseDirectory);
    }
}
