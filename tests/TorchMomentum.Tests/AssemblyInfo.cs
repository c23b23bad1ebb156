// Runs share torch's global generator (torch.manual_seed) and the intra-op thread setting, so tests
// must not run at the same time.
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]
