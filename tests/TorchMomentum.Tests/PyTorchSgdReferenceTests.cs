using System.Text.Json;
using TorchMomentum.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

/// <summary>
/// MomentumSgd against PyTorch's own torch.optim.SGD (Debian's PyTorch 1.13) on f(p) = sum(0.5 * c * p^2 + d * p)
/// in float64, bit for bit, including maximize with weight decay, where TorchSharp's SGD is not a valid
/// reference. PyTorch's results are the committed Fixtures/pytorch/sgd-reference.json (scripts/make_fixtures.py).
/// </summary>
public class PyTorchSgdReferenceTests
{
    private static JsonElement Case(int index)
    {
        using var fixture = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("pytorch/sgd-reference.json")));
        return fixture.RootElement.GetProperty("cases")[index].Clone();
    }

    public static TheoryData<int> Cases => new(Enumerable.Range(0, 7));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Ends_where_pytorchs_sgd_ends(int index)
    {
        var reference = Case(index);
        var c = reference.GetProperty("config");
        double Number(string name) => c.GetProperty(name).GetDouble();
        double[] Vector(string name) => c.GetProperty(name).EnumerateArray().Select(e => e.GetDouble()).ToArray();
        int stepSize = c.GetProperty("step_size").GetInt32();

        var p = new Parameter(tensor(Vector("p0")));
        using var optimizer = new MomentumSgd([p], Number("lr"), Number("momentum"), Number("dampening"), Number("weight_decay"),
            c.GetProperty("nesterov").GetBoolean(), c.GetProperty("maximize").GetBoolean());
        var schedule = stepSize > 0 ? optim.lr_scheduler.StepLR(optimizer, stepSize, Number("gamma")) : null;
        using var problem = new Quadratic([tensor(Vector("c"))], [tensor(Vector("d"))]);
        for (int i = 0; i < c.GetProperty("steps").GetInt32(); i++)
        {
            problem.Backward([p]);
            optimizer.step();
            schedule?.step();
        }

        AssertBitwise(reference.GetProperty("params"), p);
        var buffer = reference.GetProperty("buffer");
        if (buffer.ValueKind == JsonValueKind.Null) Assert.Null(optimizer.MomentumBuffer(p));
        else AssertBitwise(buffer, optimizer.MomentumBuffer(p)!);
    }

    [Fact]
    public void The_fixture_holds_every_case_with_results()
    {
        using var fixture = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("pytorch/sgd-reference.json")));
        Assert.Equal(Cases.Count, fixture.RootElement.GetProperty("cases").GetArrayLength());
        Assert.All(fixture.RootElement.GetProperty("cases").EnumerateArray(), e => Assert.Equal(4, e.GetProperty("params").GetArrayLength()));
    }

    // Same operations in the same order on IEEE doubles: measured equal bit for bit, and held to it.
    private static void AssertBitwise(JsonElement expected, Tensor actual)
    {
        var want = expected.EnumerateArray().Select(e => BitConverter.DoubleToInt64Bits(e.GetDouble())).ToArray();
        var got = actual.data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits).ToArray();
        Assert.Equal(want, got);
    }
}
