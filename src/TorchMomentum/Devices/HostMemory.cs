namespace TorchMomentum.Devices;

/// <summary>How much memory this process can be given now.</summary>
public static class HostMemory
{
    /// <summary>
    /// Bytes a run may use without swapping or being killed: the smaller of what the machine has free (Linux's
    /// MemAvailable, which counts reclaimable caches) and what this process may have at all. The second is the
    /// .NET runtime's view: in a container, its GC heap limit, by default 75% of the container's (cgroup's) memory
    /// limit; a configured DOTNET_GCHeapHardLimit; else the machine's memory. Erring low is right here: the limit
    /// covers libtorch's native memory too, which the runtime does not count. A 300 MB container on a 24 GB
    /// machine has about 225 MB.
    /// </summary>
    public static long AvailableBytes()
    {
        long allowed = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (allowed <= 0) allowed = long.MaxValue; // not known to the runtime: the machine's free memory alone
        const string meminfo = "/proc/meminfo";
        if (File.Exists(meminfo))
            foreach (var line in File.ReadLines(meminfo))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)
                    && long.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out long kb))
                    return Math.Min(kb * 1024, allowed);
        return allowed;
    }

    /// <summary>
    /// The share of <see cref="AvailableBytes"/> one run may plan to use: the estimates are from above, but the
    /// machine runs other things, and an estimate can still miss.
    /// </summary>
    public const double UsableFraction = 0.8;

    /// <summary>
    /// Why work estimated at <paramref name="needBytes"/> cannot fit in <paramref name="availableBytes"/>, or null
    /// when it fits in <see cref="UsableFraction"/> of it; one sentence (no period) of what needs it, the figures
    /// and <paramref name="advice"/>, the same words for every command.
    /// </summary>
    public static Validation.Refusal? Refusal(long needBytes, long availableBytes, string what, string advice)
    {
        static string Gigabytes(double bytes) => (bytes / 1e9).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + " GB";
        double usable = availableBytes * UsableFraction;
        return needBytes <= usable ? null
            : new Validation.Refusal($"{what} needs about {Gigabytes(needBytes)} of memory, more than the {Gigabytes(usable)} a run may take here " +
              $"({(int)(UsableFraction * 100)}% of the {Gigabytes(availableBytes)} available); {advice}");
    }
}
