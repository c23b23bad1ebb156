using System.Text.Json;
using TorchMomentum.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

/// <summary>
/// MomentumSgd against PyTorch's own torch.optim.SGD (Debian's PyTorch 1.13, scripts/sgd_reference.py) on
/// f(p) = sum(0.5 * c * p^2 + d * p) in float64, bit for bit, including maximize with weight decay, where
/// TorchSharp's SGD is not a valid reference.
/// </summary>
public class PyTorchSgdReferenceTests
{
    private static readonly double[] P0 = [1, -2, 3, 0.5], C = [1, 10, 0.5, 3], D = [0.1, 0, -0.3, 1];

    [Theory]
    [InlineData(0.05, 0.9, 0, 0, false, false, 0)]
    [InlineData(0.05, 0.9, 0.3, 0.01, false, false, 0)]
    [InlineData(0.05, 0.9, 0, 0.01, true, false, 0)]
    [InlineData(0.02, 0.9, 0, 0.01, false, true, 0)]
    [InlineData(0.02, 0.8, 0, 0.1, true, true, 0)]
    [InlineData(0.05, 0.9, 0, 0, false, false, 4)]
    [InlineData(0.05, 0, 0, 0.01, false, false, 0)]
    public void Ends_where_pytorchs_sgd_ends(double lr, double momentum, double dampening, double weightDecay, bool nesterov, bool maximize, int stepSize)
    {
        const int steps = 12;
        string config = JsonSerializer.Serialize(new
        {
            p0 = P0, c = C, d = D, lr, momentum, dampening, weight_decay = weightDecay, nesterov, maximize, steps, step_size = stepSize, gamma = 0.1,
        });
        using var reference = JsonDocument.Parse(PyTorchScripts.Run("sgd_reference.py", [], config));

        var p = new Parameter(tensor(P0));
        using var optimizer = new MomentumSgd([p], lr, momentum, dampening, weightDecay, nesterov, maximize);
        var schedule = stepSize > 0 ? optim.lr_scheduler.StepLR(optimizer, stepSize, 0.1) : null;
        using var problem = new Quadratic([tensor(C)], [tensor(D)]);
        for (int i = 0; i < steps; i++)
        {
            problem.Backward([p]);
            optimizer.step();
            schedule?.step();
        }

        AssertBitwise(reference.RootElement.GetProperty("params"), p);
        var buffer = reference.RootElement.GetProperty("buffer");
        if (buffer.ValueKind == JsonValueKind.Null) Assert.Null(optimizer.MomentumBuffer(p));
        else AssertBitwise(buffer, optimizer.MomentumBuffer(p)!);
    }

    // Same operations in the same order on IEEE doubles: measured equal bit for bit, and held to it.
    private static void AssertBitwise(JsonElement expected, Tensor actual)
    {
        var want = expected.EnumerateArray().Select(e => BitConverter.DoubleToInt64Bits(e.GetDouble())).ToArray();
        var got = actual.data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits).ToArray();
        Assert.Equal(want, got);
    }
}
