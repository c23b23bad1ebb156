using System.Globalization;

namespace TorchMomentum.Cli.Output;

/// <summary>Its name, for a run started without --out: <c>runs/&lt;date-time&gt;-&lt;command&gt;</c>, the first free one.</summary>
public sealed partial class RunFolder
{
    /// <summary>
    /// A folder of its own for a run started without --out: the first name of <c>runs/&lt;date-time&gt;-&lt;command&gt;</c>,
    /// then <c>-2</c>, <c>-3</c>..., that this process can lock while it is empty. Two runs started in the same second
    /// may both create one name, but only one locks it; the other moves on to the next.
    /// </summary>
    private static RunFolder? NewRun(string command, IReadOnlyList<string> results, out string? error)
    {
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + command;
        for (int n = 1; n <= 1000; n++)
        {
            string candidate = System.IO.Path.Combine("runs", n == 1 ? stamp : $"{stamp}-{n}");
            if (HoldsFiles(candidate)) continue;
            bool created = false;
            try
            {
                created = !Directory.Exists(candidate);
                Directory.CreateDirectory(candidate);
                if (Lock(candidate, "--out", results, out _) is not { } run) continue;
                error = null;
                if (!HoldsFiles(candidate)) return run;
                run.Dispose();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                RemoveIfCreated(candidate, created);
                return Fail(CannotWrite("--out", candidate, e) + " Give --out a folder that can be written.", out error);
            }
        }
        return Fail($"--out: no free folder name under runs/ for {stamp}; give --out a folder.", out error);
    }
}
