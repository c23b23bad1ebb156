// Runs share torch's global generator (torch.manual_seed) and the intra-op thread setting, so test
// classes must not run at the same time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
