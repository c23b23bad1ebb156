namespace TorchMomentum.Training;

/// <summary>What one run of the chapter's experiment measured.</summary>
public sealed record ExperimentResult
{
    /// <summary>The contestants' names, in column order.</summary>
    public required IReadOnlyList<string> Names { get; init; }

    /// <summary>Per step (from 0), the loss of each contestant's batch, before its update.</summary>
    public required IReadOnlyList<double[]> StepLosses { get; init; }

    /// <summary>Per epoch, each contestant's mean loss over the epoch's samples (batches weighted by size).</summary>
    public required IReadOnlyList<double[]> EpochMeanLosses { get; init; }

    /// <summary>Largest |hand-written - built-in momentum| over all parameters after the last step.</summary>
    public required double MaxParameterDifference { get; init; }

    /// <summary>Wall time of the training loop alone (data and nets already built).</summary>
    public required TimeSpan TrainingTime { get; init; }

    /// <summary>Steps per second: one step trains every contestant on one batch.</summary>
    public double StepsPerSecond => StepLosses.Count / TrainingTime.TotalSeconds;

    /// <summary>Epoch (from 0) of a step.</summary>
    public int EpochOf(int step) => step / (StepLosses.Count / EpochMeanLosses.Count);
}
