using System.Runtime.InteropServices;

namespace TorchMomentum.Devices;

/// <summary>How glibc's malloc, which libtorch's CPU tensors come from, treats large buffers.</summary>
public static class NativeHeap
{
    private const int TrimThreshold = -1, MmapThreshold = -3; // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD in malloc.h

    /// <summary>
    /// Keeps freed buffers of up to <paramref name="bytes"/> for reuse instead of handing them back to the OS. By
    /// default glibc maps a large buffer fresh for each allocation (or trims the heap after a free), so a loop that
    /// makes and drops a few MB-sized tensors every step pays a page fault per 4 KB touched, every step: the sweep
    /// ran at half speed in about one run out of three, by where glibc's adaptive threshold happened to settle.
    /// The cost is that the process's resident memory stays at its high-water mark. Does nothing off glibc.
    /// </summary>
    public static void KeepFreedBuffers(long bytes)
    {
        if (!OperatingSystem.IsLinux()) return;
        int threshold = (int)Math.Clamp(bytes, 128 << 10, 512L << 20);
        try
        {
            mallopt(MmapThreshold, threshold);
            mallopt(TrimThreshold, int.MaxValue);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // Not glibc (musl has no mallopt): its own policy stands.
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);
}
