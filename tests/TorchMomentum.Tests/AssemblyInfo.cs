// Tests in this process share torch's global generator (torch.manual_seed) and its intra-op thread setting, so they
// run one at a time, all in the assembly's one collection. A class whose tests only start child processes (building
// and running the package, killing commands at random moments) is a collection of its own, named in
// ChildProcessesOnly, and runs beside that one: two collections at a time, this machine's two cores.
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly)]
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.Collections, MaxThreads = 2)]

namespace TorchMomentum.Tests
{
    /// <summary>The collections whose tests touch nothing of this process's torch: each may run beside the in-process tests.</summary>
    internal static class ChildProcessesOnly
    {
        public const string Packaging = "child processes: the package";
        public const string KilledResumes = "child processes: killed and resumed runs";
        public const string KilledForces = "child processes: killed forced commands";
    }
}
