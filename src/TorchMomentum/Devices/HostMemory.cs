namespace TorchMomentum.Devices;

/// <summary>How much memory this machine can give a run now.</summary>
public static class HostMemory
{
    /// <summary>
    /// Bytes available without swapping: Linux's MemAvailable where there is one (it counts reclaimable
    /// caches), else what the .NET runtime sees as the machine's (or container's) memory.
    /// </summary>
    public static long AvailableBytes()
    {
        const string meminfo = "/proc/meminfo";
        if (File.Exists(meminfo))
            foreach (var line in File.ReadLines(meminfo))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)
                    && long.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out long kb))
                    return kb * 1024;
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }
}
