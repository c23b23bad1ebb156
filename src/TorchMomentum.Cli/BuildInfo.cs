namespace TorchMomentum.Cli;

/// <summary>Facts fixed when this assembly was built.</summary>
public static class BuildInfo
{
    /// <summary>
    /// The TorchSharp backend package this build references: "cpu" (TorchSharp-cpu, the default) or
    /// "cuda" (built with <c>-p:TorchBackend=cuda</c>).
    /// </summary>
#if TORCH_BACKEND_CUDA
    public const string TorchBackend = "cuda";
#else
    public const string TorchBackend = "cpu";
#endif

    /// <summary>TorchSharp's version (major.minor.patch), as --version, summary.json and a sweep's summary say it.</summary>
    public static string TorchSharpVersion => typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3) ?? "unknown";
}
