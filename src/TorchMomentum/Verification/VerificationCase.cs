using System.Globalization;
using TorchMomentum.Optimizers;
using static TorchSharp.torch;

namespace TorchMomentum.Verification;

/// <summary>One configuration that <see cref="OptimizerVerifier"/> runs our optimizer and TorchSharp's SGD in.</summary>
public sealed record VerificationCase
{
    /// <summary>Momentum factor.</summary>
    public double Momentum { get; init; }
    /// <summary>Dampening.</summary>
    public double Dampening { get; init; }
    /// <summary>Weight decay.</summary>
    public double WeightDecay { get; init; }
    /// <summary>Nesterov momentum.</summary>
    public bool Nesterov { get; init; }
    /// <summary>Maximize instead of minimize.</summary>
    public bool Maximize { get; init; }
    /// <summary>Halve the learning rate every few epochs with a StepLR scheduler on both optimizers.</summary>
    public bool StepSchedule { get; init; }
    /// <summary>Our optimizer's formulation.</summary>
    public MomentumFormulation Formulation { get; init; }
    /// <summary>Floating type of data and weights.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>
    /// TorchSharp's SGD adds weight decay to the un-negated gradient when maximizing; ours follows PyTorch.
    /// The two are expected to differ here.
    /// </summary>
    public bool IsKnownTorchSharpDifference => Maximize && WeightDecay != 0;

    /// <summary>
    /// Whether our optimizer must equal SGD bit for bit: the PyTorch form performs TorchSharp's own tensor
    /// operations in TorchSharp's order, so it must, at every step of the whole run. The chapter form rounds
    /// differently (v = lr*b only in exact arithmetic) and is held, step by step, to the bound of
    /// <see cref="ChapterRoundingBound"/>.
    /// </summary>
    public bool IsBitwise => Formulation == MomentumFormulation.PyTorch;

    /// <summary>A short description, e.g. "pytorch float32 m=0.8 nesterov wd=0.01".</summary>
    public string Label
    {
        get
        {
            var parts = new List<string> { Formulation.ToString().ToLowerInvariant(), DType.ToString().ToLowerInvariant(), $"m={Show(Momentum)}" };
            if (Dampening != 0) parts.Add($"damp={Show(Dampening)}");
            if (Nesterov) parts.Add("nesterov");
            if (WeightDecay != 0) parts.Add($"wd={Show(WeightDecay)}");
            if (Maximize) parts.Add("maximize");
            if (StepSchedule) parts.Add("steplr");
            return string.Join(" ", parts);
        }
    }

    private static string Show(double v) => v.ToString(CultureInfo.InvariantCulture);
}
