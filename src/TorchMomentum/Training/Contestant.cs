using TorchMomentum.Model;
using static TorchSharp.torch.optim;
using static TorchSharp.torch.optim.lr_scheduler;

namespace TorchMomentum.Training;

/// <summary>One of the nets trained side by side, with the optimizer (and optional scheduler) that trains it.</summary>
/// <param name="Name">Column name in losses.csv and label in tables and plots.</param>
/// <param name="Net">The net.</param>
/// <param name="Optimizer">Updates the net's parameters from their gradients.</param>
/// <param name="Scheduler">Stepped after every optimizer step, when there is one.</param>
public sealed record Contestant(string Name, Net Net, Optimizer Optimizer, LRScheduler? Scheduler = null);
