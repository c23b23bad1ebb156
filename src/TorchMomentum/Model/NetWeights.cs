using static TorchSharp.torch;

namespace TorchMomentum.Model;

/// <summary>The weights of one chapter net in float64, laid out as its parameters: hidden.weight, hidden.bias, predict.weight (hidden each), predict.bias.</summary>
/// <param name="W1">hidden.weight.</param>
/// <param name="B1">hidden.bias.</param>
/// <param name="W2">predict.weight.</param>
/// <param name="B2">predict.bias.</param>
public sealed record NetWeights(double[] W1, double[] B1, double[] W2, double B2)
{
    /// <summary>Hidden units.</summary>
    public int Hidden => W1.Length;

    /// <summary>Parameters, <see cref="Net.ParameterCount"/>.</summary>
    public int Count => Net.ParameterCount(Hidden);

    /// <summary>A net's weights, read in float64 from wherever they are.</summary>
    public static NetWeights Of(Net net)
    {
        using var scope = NewDisposeScope();
        double[] Read(Tensor p) => Devices.HostValues.Doubles(p.detach().to(ScalarType.Float64, CPU).contiguous()).ToArray();
        var p = net.parameters().ToArray();
        return new(Read(p[0]), Read(p[1]), Read(p[2]), Read(p[3])[0]);
    }
}
