namespace TorchMomentum.Training;

/// <summary>What a run of the chapter's experiment measured.</summary>
public sealed record ExperimentResult
{
    /// <summary>The contestants' names, in column order.</summary>
    public IReadOnlyList<string> Names => Settings.ContestantList;

    /// <summary>The settings the run used.</summary>
    public required ExperimentSettings Settings { get; init; }

    /// <summary>Per-epoch means, the last step and a plotting sample of the per-step losses (each loss is a batch's, before its update).</summary>
    public required LossHistory Losses { get; init; }

    /// <summary>Largest |hand-written - built-in momentum| over all parameters after the last step; null unless the run races both.</summary>
    public required double? MaxParameterDifference { get; init; }

    /// <summary>Each contestant's loss over all the data at the end, at the weights it is judged at (schedule-free's x, an average's weights).</summary>
    public double[] FullDataLosses { get; init; } = [];

    /// <summary>Wall time of the training this process did (a resumed run counts only its own part).</summary>
    public required TimeSpan TrainingTime { get; init; }

    /// <summary>Where the run blew up, or null if every loss stayed finite.</summary>
    public Divergence? Divergence { get; init; }

    /// <summary>Steps trained in this process (fewer than <see cref="LossHistory.Steps"/> after a resume).</summary>
    public required int StepsTimed { get; init; }

    /// <summary>Steps per second of this process's training: one step trains every contestant on one batch.</summary>
    public double StepsPerSecond => StepsTimed / TrainingTime.TotalSeconds;
}
