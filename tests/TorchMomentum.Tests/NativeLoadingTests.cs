using static TorchSharp.torch;

namespace TorchMomentum.Tests;

public class NativeLoadingTests
{
    [Fact]
    public void TorchSharp_loads_through_its_regular_path_without_the_cpu_fallback_folder()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "the cpu/ fallback and the glue's path are Linux's");
        using var sum = ones(3).sum();
        Assert.Equal(3f, sum.item<float>());

        // When the regular load fails, TorchSharp copies every native file into cpu/ next to the
        // assembly and retries; that folder appearing means the build's patch did not work.
        string here = Path.GetDirectoryName(typeof(NativeLoadingTests).Assembly.Location)!;
        Assert.False(Directory.Exists(Path.Combine(here, "cpu")), $"TorchSharp fell back to {Path.Combine(here, "cpu")}");
        Assert.True(File.Exists(Path.Combine(here, "runtimes", "linux-x64", "native", "libLibTorchSharp.so")));
    }
}
