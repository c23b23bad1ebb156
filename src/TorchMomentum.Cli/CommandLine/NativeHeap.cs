using System.Runtime.InteropServices;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>
/// How glibc's malloc, which libtorch's CPU tensors come from, treats large buffers, for the whole process: the
/// command line sets it for a sweep, whose process is its own; a library must not change it behind its host's back.
/// </summary>
internal static class NativeHeap
{
    private const int TrimThreshold = -1, MmapThreshold = -3; // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD in malloc.h

    /// <summary>The largest M_MMAP_THRESHOLD glibc takes on a 64-bit machine (DEFAULT_MMAP_THRESHOLD_MAX, mallopt(3)).</summary>
    public const long MaxMmapThreshold = 32L << 20;

    /// <summary>
    /// Keeps freed buffers of up to <paramref name="bytes"/> (at most <see cref="MaxMmapThreshold"/>) for reuse
    /// instead of handing them back to the OS. By default glibc maps a large buffer fresh for each allocation (or
    /// trims the heap after a free), so a loop that makes and drops a few MB-sized tensors every step pays a page
    /// fault per 4 KB touched, every step: the sweep ran at half speed in about one run out of three, by where
    /// glibc's adaptive threshold happened to settle. The cost is that the process's resident memory stays at its
    /// high-water mark. Returns whether glibc took both settings (false off glibc, e.g. musl, which has no mallopt).
    /// </summary>
    public static bool KeepFreedBuffers(long bytes)
    {
        if (!OperatingSystem.IsLinux()) return false;
        int threshold = (int)Math.Clamp(bytes, 128 << 10, MaxMmapThreshold);
        try
        {
            // mallopt returns 1 on success and 0 on error (a value out of its range).
            return mallopt(MmapThreshold, threshold) == 1 && mallopt(TrimThreshold, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);
}
