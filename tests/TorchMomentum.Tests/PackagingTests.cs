using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using System.Xml.Linq;
using TorchMomentum.Shared;

namespace TorchMomentum.Tests;

/// <summary>
/// What users take home: the library package, the dotnet tool installed from its package, and the samples,
/// each built and run as a user would, with a NuGet cache of its own so nothing stale is reused.
/// </summary>
[Trait("Category", "Packaging")]
[Trait("Category", "Slow")]
[Collection(ChildProcessesOnly.Packaging)]
public sealed class PackagingTests : IClassFixture<PackagingTests.Packed>
{
    private static readonly string Root = PythonScripts.RepositoryRoot();
    private static readonly string Version = typeof(Cli.CommandLine.CliApp).Assembly
        .GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
    private readonly Packed packed;
    private readonly TemporaryFolder temporary;

    public PackagingTests(Packed packed) => (this.packed, temporary) = (packed, packed.Folder);

    /// <summary>
    /// What the class's tests share: a folder with each project packed once, and the NuGet cache of their own that
    /// the tool and the outside project restore into, so TorchSharp's native packages are unpacked once, not per test.
    /// </summary>
    public sealed class Packed : IDisposable
    {
        private readonly Dictionary<string, string> packs = [];

        /// <summary>
        /// Seeds the class's NuGet cache with hard links to TorchSharp's and libtorch's packages from the user's cache
        /// (the build restored them there): unpacking libtorch for three platforms, 1.2 GB, took 15 to 25 s of each
        /// restore. Only this project's own packages must never come from an earlier build, and those are not linked.
        /// Where links cannot be made (another file system), the restores unpack everything, as before.
        /// </summary>
        public Packed()
        {
            string global = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set ? set
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            if (!Directory.Exists(global)) return;
            Directory.CreateDirectory(Folder["nuget"]);
            foreach (string package in Directory.GetDirectories(global).Where(d => Path.GetFileName(d) is { } name
                && (name.StartsWith("libtorch-", StringComparison.Ordinal) || name.StartsWith("torchsharp", StringComparison.Ordinal))))
            {
                using var link = Process.Start(new ProcessStartInfo("cp", ["-al", package, Folder["nuget"]]) { RedirectStandardError = true })!;
                link.StandardError.ReadToEnd();
                link.WaitForExit();
            }
        }

        /// <summary>The class's folder; each test takes names of its own in it.</summary>
        public TemporaryFolder Folder { get; } = new();

        /// <summary>The folder <paramref name="project"/>'s package is in, packed the first time it is asked for.</summary>
        public string Pack(string project)
        {
            lock (packs)
            {
                if (packs.TryGetValue(project, out var done)) return done;
                string packages = Folder["packages"];
                var (exit, output, error) = Run(Folder, "dotnet", ["pack", Path.Combine(Root, "src", project), "-c", "Release", "-o", packages], Root, ownCache: false);
                Assert.True(exit == 0, output + error);
                return packs[project] = packages;
            }
        }

        public void Dispose() => Folder.Dispose();
    }

    /// <summary>Runs a program; with <paramref name="ownCache"/>, against the class's own NuGet cache, so a package
    /// of this version from an earlier build is never taken from the user's cache.</summary>
    private (int Exit, string Output, string Error) Run(string program, IEnumerable<string> arguments, string directory, bool ownCache = true) =>
        Run(temporary, program, arguments, directory, ownCache);

    private static (int Exit, string Output, string Error) Run(TemporaryFolder temporary, string program, IEnumerable<string> arguments, string directory, bool ownCache)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        if (ownCache) start.Environment["NUGET_PACKAGES"] = temporary["nuget"];
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(10)), $"{program} {string.Join(' ', arguments)} did not finish");
        return (process.ExitCode, output, error.Result);
    }

    private string Pack(string project) => packed.Pack(project);

    [Fact]
    public void The_library_package_depends_on_torchsharp_alone_and_carries_the_loading_fix()
    {
        using var package = ZipFile.OpenRead(Path.Combine(Pack("TorchMomentum"), $"TorchMomentum.{Version}.nupkg"));
        var files = package.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Superset(new HashSet<string> { "lib/net10.0/TorchMomentum.dll", "lib/net10.0/TorchMomentum.xml", "PACKAGE.md", "LICENSE",
            "buildTransitive/TorchMomentum.targets", "buildTransitive/WeakenMissingLibstdcxxVersions.cs" }, files);

        using var nuspec = package.GetEntry("TorchMomentum.nuspec")!.Open();
        var metadata = XDocument.Load(nuspec).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        var dependencies = metadata.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => $"{e.Attribute("id")!.Value} {e.Attribute("version")!.Value}");
        Assert.Equal(["TorchSharp 0.107.0"], dependencies);
        Assert.Equal("MIT", metadata.Elements().Single(e => e.Name.LocalName == "license").Value);
        Assert.Equal("PACKAGE.md", metadata.Elements().Single(e => e.Name.LocalName == "readme").Value);
    }

    [Fact]
    public void A_project_outside_the_repository_uses_the_package_and_torchsharp_loads()
    {
        string packages = Pack("TorchMomentum");
        string app = temporary["app"];
        Directory.CreateDirectory(app);
        File.Copy(Path.Combine(Root, "samples", "package.cs"), Path.Combine(app, "package.cs"));
        File.WriteAllText(Path.Combine(app, "nuget.config"),
            $"<configuration><packageSources><add key=\"local\" value=\"{packages}\" /></packageSources></configuration>");

        var (exit, output, error) = Run("dotnet", ["run", "package.cs"], app);
        Assert.True(exit == 0, output + error);
        Assert.Contains($"MomentumSgd {Version} from the package", output);
        Assert.Contains("equal to torch.optim.SGD bit for bit: True", output);
    }

    [Fact]
    public void The_tool_installs_from_its_package_and_runs()
    {
        string packages = Pack("TorchMomentum.Cli"), tools = temporary["tools"];
        var install = Run("dotnet", ["tool", "install", "TorchMomentum.Cli", "--tool-path", tools, "--add-source", packages, "--version", Version], temporary.Path);
        Assert.True(install.Exit == 0, install.Output + install.Error);
        string tool = Path.Combine(tools, OperatingSystem.IsWindows() ? "torchmomentum.exe" : "torchmomentum");

        var help = Run(tool, ["--help"], temporary.Path);
        Assert.Equal(0, help.Exit);
        Assert.Contains("train", help.Output);
        Assert.Contains($"torchmomentum {Version} (TorchSharp 0.107.0", Run(tool, ["--version"], temporary.Path).Output);
        var train = Run(tool, ["train", "--epochs", "1", "--out", temporary["run"]], temporary.Path);
        Assert.True(train.Exit == 0, train.Output + train.Error);
        Assert.Equal(33, File.ReadAllLines(Path.Combine(temporary["run"], "losses.csv")).Length);
    }

    [Fact]
    public void The_chapter_sample_ends_where_train_ends()
    {
        var (exit, output, error) = Run("dotnet", ["run", Path.Combine("samples", "chapter.cs")], Root, ownCache: false);
        Assert.True(exit == 0, output + error);
        Assert.Equal(12, output.Split('\n').Count(l => l.StartsWith("epoch ", StringComparison.Ordinal)));

        Assert.Equal(0, CliRunner.RunChild("train", "--out", temporary["train"]).Exit);
        var last = File.ReadAllLines(Path.Combine(temporary["train"], "losses.csv"))[^1].Split(',');
        Assert.Contains($"final step loss: sgd {last[2]}, momentum {last[3]}, handwritten {last[4]}", output);
    }

    [Fact]
    public void The_race_sample_ends_where_train_with_its_contestants_ends()
    {
        var (exit, output, error) = Run("dotnet", ["run", Path.Combine("samples", "race.cs")], Root, ownCache: false);
        Assert.True(exit == 0, output + error);

        Assert.Equal(0, CliRunner.RunChild("train", "--contestants", "sgd,momentum,rmsprop,adam,sgd-effective", "--out", temporary["race"]).Exit);
        var last = File.ReadAllLines(Path.Combine(temporary["race"], "losses.csv"))[^1].Split(',');
        Assert.Contains($"final step loss: sgd {last[2]}, momentum {last[3]}, rmsprop {last[4]}, adam {last[5]}, sgd-effective {last[6]}", output);
    }

    [Fact]
    public void The_your_model_sample_resumes_its_checkpoint_exactly()
    {
        var (exit, output, error) = Run("dotnet", ["run", Path.Combine("samples", "your-model.cs")], Root, ownCache: false);
        Assert.True(exit == 0, output + error);
        Assert.Contains("the resumed run equals the uninterrupted one: True", output);
    }

    [Fact]
    public void The_family_sample_judges_qhm_at_its_average_and_schedule_free_at_x()
    {
        var (exit, output, error) = Run("dotnet", ["run", Path.Combine("samples", "family.cs")], Root, ownCache: false);
        Assert.True(exit == 0, output + error);
        Assert.Matches(@"QHM after 300 steps: loss 0\.\d+ at its weights, 0\.\d+ at their average", output);
        Assert.Matches(@"schedule-free SGD after 300 steps: loss 0\.\d+ at x \(evaluate here\), 0\.\d+ at y", output);
        Assert.Contains("evaluating at x and back leaves the training weights as they were: True", output);
    }
}
