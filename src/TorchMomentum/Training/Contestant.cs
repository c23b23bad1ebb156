using TorchMomentum.Model;

namespace TorchMomentum.Training;

/// <summary>
/// One of the nets trained side by side in the experiment, with the optimizer step that updates it.
/// </summary>
/// <param name="Name">Column name in losses.csv and label in tables and plots.</param>
/// <param name="Net">The net.</param>
/// <param name="Step">Updates the net's parameters from their current gradients.</param>
public sealed record Contestant(string Name, Net Net, Action Step);
