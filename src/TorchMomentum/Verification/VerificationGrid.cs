using TorchMomentum.Optimizers;
using static TorchSharp.torch;

namespace TorchMomentum.Verification;

/// <summary>The configurations <c>torchmomentum verify</c> checks.</summary>
public static class VerificationGrid
{
    /// <summary>
    /// Every option of torch.optim.SGD alone and in the combinations that interact (Nesterov with weight
    /// decay, maximize with and without weight decay, a changing learning rate), in float32 and float64,
    /// for the PyTorch form; the chapter form where it is defined (no dampening, Nesterov, weight decay,
    /// maximize) and equal to SGD (a constant learning rate).
    /// </summary>
    public static IReadOnlyList<VerificationCase> Default()
    {
        VerificationCase[] pytorch =
        [
            new() { Momentum = 0 },
            new() { Momentum = 0.8 },
            new() { Momentum = 0.8, Dampening = 0.5 },
            new() { Momentum = 0.8, Nesterov = true },
            new() { Momentum = 0.8, WeightDecay = 1e-2 },
            new() { Momentum = 0.8, Nesterov = true, WeightDecay = 1e-2 },
            new() { Momentum = 0.8, Maximize = true },
            new() { Momentum = 0.8, Maximize = true, WeightDecay = 1e-2 },
            new() { Momentum = 0.8, StepSchedule = true },
        ];
        VerificationCase[] chapter =
        [
            new() { Momentum = 0.8, Formulation = MomentumFormulation.Chapter },
            new() { Momentum = 0.9, Formulation = MomentumFormulation.Chapter },
        ];
        return pytorch.Concat(chapter)
            .SelectMany(c => new[] { c, c with { DType = ScalarType.Float64 } })
            .ToList();
    }
}
