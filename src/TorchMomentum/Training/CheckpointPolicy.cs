namespace TorchMomentum.Training;

/// <summary>When a run saves its checkpoint: after every <paramref name="Every"/>-th epoch, and after its last.</summary>
/// <param name="Every">Epochs between checkpoints, at least 1.</param>
public sealed record CheckpointPolicy(int Every)
{
    /// <summary>Whether a checkpoint is due right after <paramref name="step"/> of <paramref name="run"/>.</summary>
    public bool DueAfter(TrainingStep step, ChapterRun run) => step.EndsEpoch && (run.EpochsDone % Every == 0 || run.IsComplete);
}
