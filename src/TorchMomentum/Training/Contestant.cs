using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using static TorchSharp.torch.optim;
using static TorchSharp.torch.optim.lr_scheduler;

namespace TorchMomentum.Training;

/// <summary>One of the nets trained side by side, with the optimizer (and optional scheduler) that trains it.</summary>
/// <param name="Name">Column name in losses.csv and label in tables and plots.</param>
/// <param name="Net">The net.</param>
/// <param name="Optimizer">Updates the net's parameters from their gradients.</param>
/// <param name="Scheduler">Stepped after every optimizer step, when there is one.</param>
/// <param name="Average">A running average of the net's weights, updated after every step, whose loss is reported
/// instead of the net's (<see cref="ContestantKind.NewAverage"/>); its module is a <see cref="Model.Net"/>.</param>
public sealed record Contestant(string Name, Net Net, Optimizer Optimizer, LRScheduler? Scheduler = null, AveragedModel? Average = null)
{
    /// <summary>
    /// <paramref name="use"/> applied to the weights the contestant is judged at: the average's when it keeps one, x
    /// for an optimizer with an eval mode (<see cref="IEvalMode"/>: schedule-free), its net's otherwise.
    /// </summary>
    public T AtJudgedWeights<T>(Func<Net, T> use)
    {
        if (Average is { } average) return use((Net)average.Module);
        if (Optimizer is not IEvalMode modes) return use(Net);
        modes.Eval();
        try
        {
            return use(Net);
        }
        finally
        {
            modes.Train();
        }
    }
}
