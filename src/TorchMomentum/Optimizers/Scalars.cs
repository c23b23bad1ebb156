using TorchSharp;
using static TorchSharp.torch;

namespace TorchMomentum.Optimizers;

/// <summary>
/// Scalars made once, for the operations that take one. TorchSharp turns a number given where a <see cref="Scalar"/>
/// is asked for into a new native Scalar at every call, and <c>t.add_(u)</c> passes an alpha of 1 that way itself;
/// none of them is disposed, so each waits for the garbage collector to finalize it. Thousands of them a request made
/// every collection of the explore server a generation-1 one and put it in the slowest 1% of slider moves.
/// </summary>
internal static class Scalars
{
    /// <summary>1, the alpha of a plain <c>add_</c>: <c>t.add_(u, Scalars.One)</c> is <c>t.add_(u)</c>.</summary>
    public static readonly Scalar One = 1;

    /// <summary>0.0, as <c>t.add_(0.0)</c> adds it.</summary>
    public static readonly Scalar Zero = 0.0;
}
