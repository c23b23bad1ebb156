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
    /// <summary>The fixture's cases, each a configuration and what PyTorch ended on.</summary>
    private static JsonElement[] Fixture()
    {
        using var fixture = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("pytorch/sgd-reference.json")));
        return fixture.RootElement.GetProperty("cases").EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    // Every case the fixture holds, read from it (a regenerated fixture with more cases is checked whole), through
    // the fused step and the one-tensor step alike.
    public static TheoryData<int, bool> Cases => new(Enumerable.Range(0, Fixture().Length).SelectMany(i => new[] { (i, true), (i, false) }));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Ends_where_pytorchs_sgd_ends(int index, bool fused)
    {
        var reference = Fixture()[index];
        var c = reference.GetProperty("config");
        double Number(string name) => c.GetProperty(name).GetDouble();
        double[] Vector(string name) => c.GetProperty(name).EnumerateArray().Select(e => e.GetDouble()).ToArray();
        int stepSize = c.GetProperty("step_size").GetInt32();

        var p = new Parameter(tensor(Vector("p0")));
        using var optimizer = new MomentumSgd([p], Number("lr"), Number("momentum"), Number("dampening"), Number("weight_decay"),
            c.GetProperty("nesterov").GetBoolean(), c.GetProperty("maximize").GetBoolean(), fused: fused);
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
    public void The_fixture_covers_each_sgd_option_and_the_combination_torchsharp_gets_wrong()
    {
        // What the cases above can prove depends on what PyTorch was asked: a regenerated fixture that lost a
        // case would leave an option unchecked while every test still passed.
        var configs = Fixture().Select(e => e.GetProperty("config")).ToArray();
        bool Any(Func<JsonElement, bool> holds) => configs.Any(holds);
        double Number(JsonElement c, string name) => c.GetProperty(name).GetDouble();
        bool Flag(JsonElement c, string name) => c.GetProperty(name).GetBoolean();
        Assert.True(Any(c => Number(c, "momentum") == 0), "no case without momentum (no buffer)");
        Assert.True(Any(c => Number(c, "momentum") != 0 && Number(c, "dampening") != 0), "no case with dampening");
        Assert.True(Any(c => Flag(c, "nesterov")), "no Nesterov case");
        Assert.True(Any(c => Number(c, "weight_decay") != 0 && !Flag(c, "maximize")), "no weight decay case");
        Assert.True(Any(c => Flag(c, "maximize") && Number(c, "weight_decay") != 0), "no maximize with weight decay case");
        Assert.True(Any(c => c.GetProperty("step_size").GetInt32() > 0), "no case with a changing learning rate");
        // Each case's results are PyTorch's for its own p0: as many parameters, and a buffer exactly when there is momentum.
        Assert.All(Fixture(), e =>
        {
            var c = e.GetProperty("config");
            Assert.Equal(c.GetProperty("p0").GetArrayLength(), e.GetProperty("params").GetArrayLength());
            Assert.Equal(Number(c, "momentum") == 0, e.GetProperty("buffer").ValueKind == JsonValueKind.Null);
        });
    }

    // Same operations in the same order on IEEE doubles: measured equal bit for bit, and held to it.
    private static void AssertBitwise(JsonElement expected, Tensor actual)
    {
        var want = expected.EnumerateArray().Select(e => BitConverter.DoubleToInt64Bits(e.GetDouble())).ToArray();
        var got = actual.data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits).ToArray();
        Assert.Equal(want, got);
    }
}
