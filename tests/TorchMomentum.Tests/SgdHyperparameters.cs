using CsCheck;

namespace TorchMomentum.Tests;

/// <summary>SGD's hyperparameters, as the property tests draw them.</summary>
public sealed record SgdHyperparameters(double Lr, double Momentum, double Dampening, double WeightDecay, bool Nesterov, bool Maximize)
{
    /// <summary>
    /// Random hyperparameters that torch.optim.SGD accepts, zero often enough that every branch of the update
    /// runs: Nesterov only with momentum and no dampening, as PyTorch requires.
    /// </summary>
    public static readonly Gen<SgdHyperparameters> Any =
        from lr in Gen.Double[0, 0.5]
        from momentum in Gen.OneOf(Gen.Const(0.0), Gen.Double[0, 0.99])
        from dampening in Gen.OneOf(Gen.Const(0.0), Gen.Double[0, 1])
        from weightDecay in Gen.OneOf(Gen.Const(0.0), Gen.Double[0, 0.1])
        from nesterov in Gen.Bool
        from maximize in Gen.Bool
        select new SgdHyperparameters(lr, momentum, dampening, weightDecay, nesterov && momentum > 0 && dampening == 0, maximize);
}
