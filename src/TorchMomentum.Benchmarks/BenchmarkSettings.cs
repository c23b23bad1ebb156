namespace TorchMomentum.Benchmarks;

/// <summary>Settings the benchmarks share.</summary>
public static class BenchmarkSettings
{
    /// <summary>Threads for the chapter's tiny net: one is fastest, for PyTorch too.</summary>
    public const int ChapterThreads = 1;

    /// <summary>libtorch's own thread count, read before anything changes it.</summary>
    public static int DefaultThreads { get; set; }
}
