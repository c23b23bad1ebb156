using System.Diagnostics;

namespace TorchMomentum.Shared;

/// <summary>
/// Runs the Python programs in scripts/ with Debian's python3-torch: the one launcher of the tests (live
/// PyTorch cross-checks) and the benchmarks (the PyTorch anchor). Compiled into each of those projects
/// from this file; the library and the app never run Python.
/// </summary>
internal static class PythonScripts
{
    /// <summary>The interpreter Debian's python3-torch installs for.</summary>
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string?> missing = new(() =>
    {
        if (!File.Exists(Python)) return $"needs {Python}";
        var (exit, _, error) = Start(["-c", "import torch; torch.zeros(1)"]);
        return exit == 0 ? null : $"needs PyTorch for {Python} (apt-get install python3-torch): {error.Trim().Split('\n')[^1]}";
    });

    /// <summary>Why PyTorch cannot be used here, or null when it can (checked once per process).</summary>
    public static string? MissingPyTorch => missing.Value;

    /// <summary>Runs scripts/<paramref name="script"/> with <paramref name="arguments"/> and what it wrote to its two outputs.</summary>
    public static (int Exit, string Output, string Error) Run(string script, IEnumerable<string> arguments, string? input = null) =>
        Start([Path.Combine(RepositoryRoot(), "scripts", script), .. arguments], input);

    /// <summary>The folder holding TorchMomentum.sln, found upwards from the running program.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TorchMomentum.sln"))) return dir.FullName;
        throw new InvalidOperationException("TorchMomentum.sln not found above " + AppContext.BaseDirectory);
    }

    private static (int Exit, string Output, string Error) Start(IEnumerable<string> arguments, string? input = null)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var python = Process.Start(start)!;
        python.StandardInput.Write(input ?? "");
        python.StandardInput.Close();
        var error = python.StandardError.ReadToEndAsync();
        string output = python.StandardOutput.ReadToEnd();
        python.WaitForExit();
        return (python.ExitCode, output, error.Result);
    }
}
