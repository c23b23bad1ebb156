using System.Runtime.InteropServices;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Optimizers;

/// <summary>
/// The parameters of one param group that share a device and dtype, laid end to end in three contiguous
/// buffers: one for the parameters, one for their gradients, one for their momentum state.
/// </summary>
/// <remarks>
/// Why views: a step is a handful of tensor operations, and on small tensors each costs far more in dispatch
/// than in arithmetic. With every parameter, every gradient and every momentum buffer a view into its flat
/// buffer, one operation on the buffer updates all of them, so a step costs the same few operations for 4
/// tensors or 400 (<see cref="MomentumUpdate"/> runs on the flat buffers as on one tensor), and zeroing the
/// gradients is one. Autograd accumulates into an existing gradient in place, so after <see cref="ZeroGrad"/>
/// backward writes straight into the gradient buffer.
/// <para>
/// What falls back: a gradient that is not our view (the user assigned one, or a set-to-none zero_grad let
/// backward allocate a fresh one) is copied in and replaced by our view before the step, told by
/// <see cref="NativeTensorIdentity"/>. A momentum buffer that is not the view lent to its state
/// (<see cref="LendStateView"/>: a load or the user put another there) is copied in likewise. The whole bucket
/// is stepped one parameter at a time, exactly as before, when a parameter has no gradient (PyTorch skips it), a
/// sparse one, or no buffer yet (a first step creates each one as PyTorch does). FusedMomentumSgdTests drives
/// both paths through replaced and missing gradients and holds them equal bit for bit.
/// </para>
/// </remarks>
internal sealed class FlatBucket : IDisposable
{
    private readonly Parameter[] parameters;
    private readonly long[] offsets;
    private readonly Tensor[] gradientViews;
    private readonly IntPtr[] gradientIdentities;
    private readonly Tensor?[] lentStateViews;

    /// <summary>The parameters, in order.</summary>
    public IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>All parameters as one flat tensor; writing it writes the parameters.</summary>
    public Tensor FlatParameters { get; }

    /// <summary>All gradients as one flat tensor.</summary>
    public Tensor FlatGradients { get; }

    /// <summary>All momentum buffers (or velocities) as one flat tensor.</summary>
    public Tensor FlatState { get; }

    /// <summary>
    /// A new view of parameter <paramref name="index"/>'s part of <see cref="FlatState"/>, in its shape, for
    /// its optimizer state to keep as its momentum buffer. The state owns (and may dispose) it; the bucket
    /// only remembers which object it lent, see <see cref="HasLent"/>.
    /// </summary>
    public Tensor LendStateView(int index) => lentStateViews[index] = View(FlatState, index);

    /// <summary>
    /// Whether <paramref name="buffer"/> is the view last lent for parameter <paramref name="index"/>, so the
    /// fused step updates it. Anything else (a loaded buffer, one assigned by hand) must be copied in first.
    /// </summary>
    public bool HasLent(int index, Tensor buffer) => ReferenceEquals(lentStateViews[index], buffer);

    /// <summary>
    /// Whether these parameters can share buffers: dense, contiguous, each with storage of its own (a
    /// parameter that is a view into another's, like tied weights, would come untied), all wanting gradients.
    /// Parameters already flattened by an earlier optimizer are views too, so they are stepped one by one.
    /// </summary>
    public static bool CanHold(IReadOnlyList<Parameter> candidates) =>
        candidates.All(p => p.requires_grad && p.is_contiguous() && p.storage_offset() == 0 && !p.is_sparse)
        && candidates.Select(NativeTensorIdentity).Distinct().Count() == candidates.Count;

    /// <summary>Moves the parameters into the buffers (their values unchanged) and makes their gradients our views.</summary>
    public FlatBucket(IReadOnlyList<Parameter> parameters)
    {
        this.parameters = parameters.ToArray();
        var first = this.parameters[0];
        offsets = new long[this.parameters.Length];
        for (int i = 1; i < offsets.Length; i++) offsets[i] = offsets[i - 1] + this.parameters[i - 1].numel();
        long total = this.parameters.Sum(p => p.numel());
        using var noGrad = no_grad();
        if (this.parameters.Length == 1)
        {
            // A lone parameter is already flat: share its storage instead of copying it.
            FlatParameters = first.view(-1).DetachFromDisposeScope();
        }
        else
        {
            FlatParameters = empty(total, first.dtype, first.device).DetachFromDisposeScope();
            foreach (var (p, view) in this.parameters.Zip(Views(FlatParameters)))
            {
                view.copy_(p);
                p.set_(view);
                view.Dispose();
            }
        }
        FlatGradients = zeros(total, first.dtype, first.device).DetachFromDisposeScope();
        FlatState = zeros(total, first.dtype, first.device).DetachFromDisposeScope();
        gradientViews = Views(FlatGradients);
        lentStateViews = new Tensor?[this.parameters.Length];
        gradientIdentities = gradientViews.Select(NativeTensorIdentity).ToArray();
        // A parameter without a gradient keeps none: PyTorch skips it, and a zero gradient would not be
        // the same (momentum and weight decay would still move it). A sparse gradient stays as it is (see ZeroGrad).
        for (int i = 0; i < this.parameters.Length; i++)
        {
            using var grad = this.parameters[i].grad;
            if (grad is null || grad.is_sparse) continue;
            gradientViews[i].copy_(grad);
            this.parameters[i].grad = gradientViews[i];
        }
    }

    /// <summary>
    /// Zeroes every gradient with one operation, as zero_grad(set_to_none=False) does: a parameter that has
    /// a gradient gets our zeroed view, one that has none keeps none. A sparse gradient (an embedding's with
    /// sparse: true) is zeroed in place and stays sparse, as TorchSharp's SGD leaves it: made dense, the next
    /// backward would accumulate into it in another order, and the step would round differently.
    /// </summary>
    public void ZeroGrad()
    {
        FlatGradients.zero_();
        for (int i = 0; i < parameters.Length; i++)
        {
            using var grad = parameters[i].grad;
            if (grad is null || NativeTensorIdentity(grad) == gradientIdentities[i]) continue;
            if (grad.is_sparse) grad.zero_();
            else parameters[i].grad = gradientViews[i];
        }
    }

    /// <summary>
    /// Brings every gradient into <see cref="FlatGradients"/>, copying in any that is not our view. Returns
    /// false, changing nothing, when some parameter has no gradient (PyTorch skips such a parameter, which a
    /// step over the whole buffer cannot do) or a sparse one (PyTorch steps it with sparse operations, which
    /// touch only its rows and round otherwise, and keeps a sparse momentum buffer).
    /// </summary>
    public bool GatherGradients()
    {
        var grads = new Tensor?[parameters.Length];
        try
        {
            for (int i = 0; i < parameters.Length; i++)
                if ((grads[i] = parameters[i].grad) is null || grads[i]!.is_sparse) return false;
            for (int i = 0; i < parameters.Length; i++)
            {
                if (NativeTensorIdentity(grads[i]!) == gradientIdentities[i]) continue;
                gradientViews[i].copy_(grads[i]!);
                parameters[i].grad = gradientViews[i];
            }
            return true;
        }
        finally
        {
            foreach (var g in grads) g?.Dispose();
        }
    }

    /// <summary>Views of <paramref name="flat"/>, one per parameter, in the parameters' shapes.</summary>
    private Tensor[] Views(Tensor flat) => Enumerable.Range(0, parameters.Length).Select(i => View(flat, i)).ToArray();

    /// <summary>The part of <paramref name="flat"/> that is parameter <paramref name="index"/>'s, in its shape.</summary>
    private Tensor View(Tensor flat, int index)
    {
        var p = parameters[index];
        using var slice = flat.narrow(0, offsets[index], p.numel());
        return slice.view(p.shape).DetachFromDisposeScope();
    }

    /// <summary>
    /// The native tensor a handle refers to. A TorchSharp handle points at an at::Tensor, whose only member is
    /// the pointer to its TensorImpl: two handles with the same TensorImpl are the same tensor. Were that
    /// layout ever to change, every gradient would look foreign and be copied in (slower, never wrong), and
    /// MomentumSgd might take distinct parameters for one repeated parameter and refuse them (loudly, when built).
    /// </summary>
    internal static IntPtr NativeTensorIdentity(Tensor tensor) => Marshal.ReadIntPtr(tensor.Handle);

    /// <inheritdoc />
    public void Dispose()
    {
        // The lent state views belong to the states that keep them.
        foreach (var view in gradientViews) view.Dispose();
        FlatParameters.Dispose();
        FlatGradients.Dispose();
        FlatState.Dispose();
    }
}
