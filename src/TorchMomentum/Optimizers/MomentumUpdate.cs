using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace TorchMomentum.Optimizers;

/// <summary>
/// The momentum update itself, once per formulation: a kernel over a parameter p, its gradient g and its
/// momentum buffer, applied in place. <see cref="MomentumSgd"/> runs the same kernel on one parameter's
/// tensors and on a whole flat bucket of them (see <see cref="FlatBucket"/>), so both paths perform the same
/// tensor operations in the same order and agree bit for bit. The chapter's step has three forms side by side, as
/// PyTorch's torch/optim/sgd.py keeps its single-tensor, foreach and fused forms: tensors (the optimizer, the torch
/// sweep engine), a vector of cells (the fused sweep kernel, <see cref="Sweeps.FusedStep"/>) and one number (its
/// scalar path, and the noise view's runs, <see cref="Theory.NoisyMomentum"/>), each the same two products, sum and
/// difference, so each rounds as the others do (.NET never fuses a multiply and an add by itself).
/// </summary>
internal static class MomentumUpdate
{
    /// <summary>
    /// PyTorch's SGD, as <c>_single_tensor_sgd</c> in <c>torch/optim/sgd.py</c> writes it, with momentum,
    /// dampening, weight decay (wd), Nesterov and maximize:
    /// <code>
    ///   g = -g                                   if maximize
    ///   g = g + wd * p                           if wd != 0
    ///   b = g (a copy) on the first step, else b = momentum * b + (1 - dampening) * g     } if momentum != 0
    ///   g = g + momentum * b if nesterov, else g = b                                      }
    ///   p = p - lr * g
    /// </code>
    /// </summary>
    /// <param name="p">The parameter (or a bucket of them), updated in place.</param>
    /// <param name="g">Its gradient.</param>
    /// <param name="b">Its momentum buffer, updated in place; null before the first step.</param>
    /// <param name="o">The group's hyperparameters.</param>
    /// <param name="factors">Where the momentum factor as a tensor comes from.</param>
    /// <param name="newBuffer">Makes the first step's buffer, a copy of what it is given.</param>
    /// <returns>The buffer (the new one after a first step); null without momentum.</returns>
    public static Tensor? PyTorch(Tensor p, Tensor g, Tensor? b, MomentumSgd.Options o, FactorCache factors, Func<Tensor, Tensor> newBuffer)
    {
        double momentum = o.momentum!.Value;
        if (o.maximize!.Value) g = g.neg();
        if (o.weight_decay!.Value != 0) g = g.add(p, alpha: factors.ScalarOf(o.weight_decay.Value));
        if (momentum != 0)
        {
            if (b is null) b = newBuffer(g);
            else b.mul_(factors.Of(momentum, p)).add_(g, alpha: factors.ScalarOf(1 - o.dampening!.Value));
            g = o.nesterov!.Value ? g.add(b, alpha: factors.ScalarOf(momentum)) : b;
        }
        p.add_(g, alpha: factors.ScalarOf(-o.LearningRate!.Value));
        return b;
    }

    /// <summary>
    /// The chapter's <c>sgd_momentum</c> (section 5.5.1, step 2; momentum is the chapter's gamma there and its
    /// beta in 5.2-5.3), a velocity v that already holds the learning rate:
    /// <code>
    ///   v = momentum * v + lr * g        (v starts at 0)
    ///   p = p - v
    /// </code>
    /// Product by product, as the chapter writes it, so that the rounding is the chapter's.
    /// </summary>
    /// <param name="p">The parameter (or a bucket of them), updated in place.</param>
    /// <param name="g">Its gradient.</param>
    /// <param name="v">Its velocity, updated in place; null before the first step.</param>
    /// <param name="o">The group's hyperparameters.</param>
    /// <param name="factors">Where momentum and lr as tensors come from.</param>
    /// <param name="newBuffer">Makes the first step's velocity, a copy of what it is given.</param>
    /// <returns>The velocity (the new one after a first step).</returns>
    public static Tensor Chapter(Tensor p, Tensor g, Tensor? v, MomentumSgd.Options o, FactorCache factors, Func<Tensor, Tensor> newBuffer)
    {
        v ??= newBuffer(zeros_like(p));
        Chapter(p, g, v, factors.Of(o.momentum!.Value, p), factors.Of(o.LearningRate!.Value, p));
        return v;
    }

    /// <summary>
    /// The chapter's step itself, with momentum and lr as tensors that broadcast against p: 0-dim for an optimizer's
    /// param group, one value per element for a sweep's stacked nets, whose every cell has its own
    /// (<see cref="Sweeps.SweepTraining"/>). Each product is its own operation, so an element's result depends on
    /// its own numbers alone, never on how many others share the tensor.
    /// </summary>
    /// <param name="p">The parameters, updated in place.</param>
    /// <param name="g">Their gradients.</param>
    /// <param name="v">Their velocities, updated in place.</param>
    /// <param name="momentum">The momentum (gamma), broadcast against p.</param>
    /// <param name="lr">The learning rate, broadcast against p.</param>
    public static void Chapter(Tensor p, Tensor g, Tensor v, Tensor momentum, Tensor lr)
    {
        using var step = g.mul(lr);
        v.mul_(momentum).add_(step, Scalars.One);
        p.sub_(v);
    }

    /// <summary>The chapter's step for a vector of cells, a cell per lane: v = m * v + lr * g; p = p - v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Chapter<T>(ref Vector256<T> p, ref Vector256<T> v, Vector256<T> g, Vector256<T> momentum, Vector256<T> lr) where T : unmanaged
    {
        v = momentum * v + lr * g;
        p -= v;
    }

    /// <summary>The chapter's step for one number: v = m * v + lr * g; p = p - v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Chapter<T>(ref T p, ref T v, T g, T momentum, T lr) where T : IFloatingPointIeee754<T>
    {
        v = momentum * v + lr * g;
        p -= v;
    }
}
