using System.Diagnostics;

namespace TorchMomentum.Tests;

/// <summary>
/// Runs the command line as a second Unix user, nobody, for the tests of what one user's run may do to another's.
/// The built command line lies inside the clone, and a clone often sits in a folder only its owner can enter
/// (root's home, <c>mktemp -d</c>): nobody could not even resolve the DLL's path there. So nobody runs a copy of
/// the build folder in a folder of its own that anyone may enter: hard links where the file system allows (the
/// 500 MB of libtorch cost nothing), a plain copy elsewhere. Made once per test process, removed when it ends.
/// </summary>
internal static class OtherUser
{
    private const string Setpriv = "/usr/bin/setpriv";
    private static readonly Lazy<(string? Dll, string? Reason)> Copy = new(() => OperatingSystem.IsWindows() ? (null, "uses Unix users") : MakeCopy());

    /// <summary>Why the command line cannot be run as another user here, or null when it can.</summary>
    public static string? Unavailable => !OperatingSystem.IsLinux() ? "uses Unix users"
        : Environment.UserName != "root" ? "needs to be root, to run the command line as a second user"
        : !File.Exists(Setpriv) ? $"needs {Setpriv} (util-linux) to run the command line as a second user"
        : Copy.Value.Reason;

    /// <summary>Skips the test, with the reason, where the command line cannot be run as another user.</summary>
    public static void SkipUnlessAvailable() => Assert.SkipWhen(Unavailable is not null, Unavailable ?? "");

    /// <summary>How to run the command line as nobody, with its outputs redirected; skips the test with the reason where it cannot.</summary>
    public static ProcessStartInfo Process(params string[] args)
    {
        SkipUnlessAvailable();
        var start = new ProcessStartInfo(Setpriv)
        {
            ArgumentList = { "--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", Copy.Value.Dll! },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Not the test's own folder, which nobody may not be able to enter.
            WorkingDirectory = Path.GetDirectoryName(Copy.Value.Dll)!,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_HOME"] = "/tmp";
        start.Environment["HOME"] = "/tmp";
        return start;
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static (string?, string?) MakeCopy()
    {
        string source = Path.GetDirectoryName(CliRunner.Dll)!;
        string root = Directory.CreateTempSubdirectory("torchmomentum-other-user-").FullName;
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        string target = Path.Combine(root, "cli");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(root, recursive: true);
        // -l: hard links (same file system only); -a keeps the modes, so nobody can read and run what it could before.
        if (CopyFolder("-al", source, target) || CopyFolder("-a", source, target))
        {
            string dll = Path.Combine(target, Path.GetFileName(CliRunner.Dll));
            using var check = System.Diagnostics.Process.Start(new ProcessStartInfo(Setpriv)
            {
                ArgumentList = { "--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", dll, "--version" },
                RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = target,
                Environment = { ["DOTNET_CLI_HOME"] = "/tmp", ["HOME"] = "/tmp" },
            })!;
            string error = check.StandardError.ReadToEnd();
            check.StandardOutput.ReadToEnd();
            check.WaitForExit();
            if (check.ExitCode == 0) return (dll, null);
            return (null, $"nobody cannot run a copy of the command line in {target} (exit {check.ExitCode}: {error.Split('\n')[0]})");
        }
        return (null, $"cannot copy the command line's build folder to {target}, where another user could run it");
    }

    private static bool CopyFolder(string how, string source, string target)
    {
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        using var cp = System.Diagnostics.Process.Start(new ProcessStartInfo("cp") { ArgumentList = { how, source, target }, RedirectStandardError = true })!;
        cp.StandardError.ReadToEnd();
        cp.WaitForExit();
        return cp.ExitCode == 0;
    }
}
