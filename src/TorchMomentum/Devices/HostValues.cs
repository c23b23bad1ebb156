using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace TorchMomentum.Devices;

/// <summary>
/// A contiguous CPU tensor's numbers, read or written in place through its bytes. TorchSharp's <c>data&lt;T&gt;()</c>
/// makes an accessor object per call that cost the garbage collector far more than its size (30,000 of them, one a
/// step of 300 bowl paths, lengthened a collection by 4 to 5 ms); a span makes none.
/// </summary>
internal static class HostValues
{
    /// <summary>The float64 elements of <paramref name="t"/>, in place.</summary>
    public static Span<double> Doubles(Tensor t) => MemoryMarshal.Cast<byte, double>(t.bytes);
}
