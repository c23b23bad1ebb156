namespace TorchMomentum.Verification;

/// <summary>How a configuration came out.</summary>
public enum Verdict
{
    /// <summary>Within tolerance (for the PyTorch form: bit for bit; for the chapter form: every step within its bound).</summary>
    Pass,
    /// <summary>Outside tolerance: our optimizer does not compute what SGD computes.</summary>
    Fail,
    /// <summary>Maximize with weight decay, where TorchSharp's SGD departs from PyTorch and ours does not.</summary>
    KnownTorchSharpDifference,
}

/// <summary>What one configuration measured.</summary>
/// <param name="Case">The configuration.</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="MaxParameterDifference">Largest |ours - built-in| over all parameters and steps. For the chapter
/// form each step starts from the built-in's parameters (see <see cref="ChapterRoundingBound"/>), so this is the
/// largest difference one step makes.</param>
/// <param name="MaxBufferDifference">Largest difference of the momentum state over all steps: our buffer
/// against the built-in's (negated when maximizing: TorchSharp's buffer holds +g where PyTorch's holds -g),
/// or for the chapter form our velocity against lr times the built-in's buffer.</param>
/// <param name="ParameterTolerance">The largest parameter difference allowed: 0 for the bitwise PyTorch form; for
/// the chapter form the largest of its per-step bounds, each step being held to its own.</param>
/// <param name="BufferTolerance">The same for the momentum state.</param>
/// <param name="WorstShareOfBound">For the chapter form, the largest share of its own step's bound that a difference
/// took (at most 1 to pass); null for the bitwise form.</param>
/// <param name="Verdict">Pass, fail or the known TorchSharp difference.</param>
public sealed record VerificationResult(VerificationCase Case, int Steps, double MaxParameterDifference, double MaxBufferDifference,
    double ParameterTolerance, double BufferTolerance, double? WorstShareOfBound, Verdict Verdict);
