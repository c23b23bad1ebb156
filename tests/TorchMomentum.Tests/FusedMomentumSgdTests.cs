using CsCheck;
using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

/// <summary>The flat-buffer (fused) step computes exactly what the one-tensor-at-a-time step computes.</summary>
public class FusedMomentumSgdTests
{
    /// <summary>What happens to one parameter's gradient before a step.</summary>
    public enum GradientEvent { Backward, Replaced, Removed }

    public sealed record Config(double Lr, double Momentum, double Dampening, double WeightDecay, bool Nesterov, bool Maximize,
        MomentumFormulation Formulation, bool Float64, long[][] Shapes, GradientEvent[][] Events, bool SetToNone, ulong Seed);

    private static readonly Gen<Config> Configs =
        from h in SgdHyperparameters.Any
        from chapter in Gen.Bool
        from float64 in Gen.Bool
        from shapes in Gen.Long[1, 5].Array[1, 3].Array[1, 5]
        from steps in Gen.Int[1, 12]
        from events in Gen.Frequency((8, Gen.Const(GradientEvent.Backward)), (1, Gen.Const(GradientEvent.Replaced)), (1, Gen.Const(GradientEvent.Removed))).Array[shapes.Length].Array[steps]
        from setToNone in Gen.Bool
        from seed in Gen.ULong
        select chapter
            ? new Config(h.Lr, h.Momentum, 0, 0, false, false, MomentumFormulation.Chapter, float64, shapes, events, setToNone, seed)
            : new Config(h.Lr, h.Momentum, h.Dampening, h.WeightDecay, h.Nesterov, h.Maximize, MomentumFormulation.PyTorch, float64, shapes, events, setToNone, seed);

    /// <summary>Trains two copies, fused and not, through the same gradient events; returns both.</summary>
    private static (Parameter[] Fused, Parameter[] Unfused, MomentumSgd FusedOptimizer, MomentumSgd UnfusedOptimizer) Run(Config c)
    {
        var dtype = c.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        using var generator = new Generator(c.Seed);
        using var problem = Quadratic.Random(c.Shapes, dtype, generator);
        var fused = Quadratic.Parameters(c.Shapes, dtype, generator);
        var unfused = Quadratic.Copy(fused);
        var fusedOptimizer = new MomentumSgd(fused, c.Lr, c.Momentum, c.Dampening, c.WeightDecay, c.Nesterov, c.Maximize, c.Formulation, fused: true);
        var unfusedOptimizer = new MomentumSgd(unfused, c.Lr, c.Momentum, c.Dampening, c.WeightDecay, c.Nesterov, c.Maximize, c.Formulation, fused: false);
        foreach (var events in c.Events)
        {
            foreach (var (parameters, optimizer) in new[] { (fused, fusedOptimizer), (unfused, unfusedOptimizer) })
            {
                if (c.SetToNone) foreach (var p in parameters) p.grad = null;
                else optimizer.zero_grad();
                problem.Backward(parameters);
                for (int i = 0; i < parameters.Length; i++)
                {
                    if (events[i] == GradientEvent.Removed) parameters[i].grad = null;
                    // A gradient the user computed elsewhere and assigned: a tensor of its own.
                    if (events[i] == GradientEvent.Replaced) parameters[i].grad = parameters[i].detach() * 0.5 + 1;
                }
                optimizer.step();
            }
        }
        return (fused, unfused, fusedOptimizer, unfusedOptimizer);
    }

    [Fact]
    public void Fused_and_unfused_steps_agree_bit_for_bit_through_replaced_and_missing_gradients()
    {
        long fusedSteps = 0;
        Configs.Sample(c =>
        {
            using var scope = NewDisposeScope();
            var (fused, unfused, fusedOptimizer, unfusedOptimizer) = Run(c);
            using (fusedOptimizer)
            using (unfusedOptimizer)
            {
                Assert.True(Quadratic.Bitwise(fused, unfused), $"parameters differ for {c}");
                Assert.True(Quadratic.Bitwise(fused.Select(fusedOptimizer.MomentumBuffer).ToArray(), unfused.Select(unfusedOptimizer.MomentumBuffer).ToArray()),
                    $"state differs for {c}");
                Assert.Equal(0, unfusedOptimizer.FusedBucketUpdates);
                fusedSteps += fusedOptimizer.FusedBucketUpdates;
            }
        }, iter: 300);
        Assert.True(fusedSteps > 300, "the fused path hardly ran");
    }

    [Fact]
    public void Param_groups_and_state_dict_load_keep_the_fused_step_exact()
    {
        using var generator = new Generator(11);
        using var problem = Quadratic.Random([[4, 3], [3], [2, 2], [5]], ScalarType.Float32, generator);
        var fused = Quadratic.Parameters([[4, 3], [3], [2, 2], [5]], ScalarType.Float32, generator);
        var unfused = Quadratic.Copy(fused);
        MomentumSgd Build(Parameter[] p, bool isFused) => new(
            [new MomentumSgd.ParamGroup(p[..2]), new MomentumSgd.ParamGroup(p[2..], new MomentumSgd.Options { LearningRate = 0.01, momentum = 0.5 })],
            lr: 0.1, momentum: 0.9, dampening: 0.1, fused: isFused);
        using var reference = Build(unfused, false);
        var first = Build(fused, true);
        for (int i = 0; i < 5; i++)
        {
            foreach (var (p, o) in new[] { (fused, first), (unfused, reference) })
            {
                o.zero_grad();
                problem.Backward(p);
                o.step();
            }
        }
        // Resume the fused run as a new process would: a fresh copy of the weights, a fresh fused optimizer,
        // the saved state loaded into it.
        var stream = new MemoryStream();
        first.save_state_dict(new BinaryWriter(stream));
        first.Dispose();
        stream.Position = 0;
        fused = Quadratic.Copy(fused);
        using var resumed = Build(fused, true);
        resumed.load_state_dict(new BinaryReader(stream));
        long before = resumed.FusedBucketUpdates;
        for (int i = 0; i < 5; i++)
        {
            foreach (var (p, o) in new[] { (fused, resumed), (unfused, reference) })
            {
                o.zero_grad();
                problem.Backward(p);
                o.step();
            }
        }
        Assert.True(Quadratic.Bitwise(fused, unfused));
        Assert.True(Quadratic.Bitwise(fused.Select(resumed.MomentumBuffer).ToArray(), unfused.Select(reference.MomentumBuffer).ToArray()));
        Assert.Equal(before + 2 * 5, resumed.FusedBucketUpdates); // both groups fused from the first resumed step
    }

    [Fact]
    public void Flattening_keeps_the_nets_weights_and_outputs()
    {
        manual_seed(3);
        using var net = new Net();
        using var input = linspace(-1, 1, 7).unsqueeze(1);
        using var before = net.forward(input).detach().clone();
        var weights = net.parameters().Select(p => p.detach().clone()).ToArray();
        using var optimizer = new MomentumSgd(net.parameters(), 0.1, 0.9);
        Assert.True(Quadratic.Bitwise(weights, net.parameters().ToArray()));
        using var after = net.forward(input);
        Assert.True(Quadratic.Bitwise([before], [after]));
    }

    [Fact]
    public void A_parameter_that_cannot_share_a_buffer_is_stepped_on_its_own()
    {
        // A transposed view is not contiguous: moving it into a flat buffer would change what it views.
        using var generator = new Generator(5);
        var transposed = new Parameter(randn([3, 4], generator: generator).t());
        var copy = Quadratic.Copy([transposed]);
        using var problem = Quadratic.Random([[4, 3]], ScalarType.Float32, generator);
        using var fused = new MomentumSgd([transposed], 0.1, 0.9);
        using var unfused = new MomentumSgd(copy, 0.1, 0.9, fused: false);
        for (int i = 0; i < 4; i++)
        {
            problem.Backward([transposed]);
            fused.step();
            problem.Backward(copy);
            unfused.step();
        }
        Assert.False(transposed.is_contiguous());
        Assert.Equal(0, fused.FusedBucketUpdates);
        Assert.True(Quadratic.Bitwise([transposed], copy));
    }

    [Fact]
    public void Zero_grad_zeroes_every_gradient_and_keeps_missing_ones_missing()
    {
        using var generator = new Generator(9);
        using var problem = Quadratic.Random([[3], [2]], ScalarType.Float32, generator);
        var parameters = Quadratic.Parameters([[3], [2], [4]], ScalarType.Float32, generator);
        using var optimizer = new MomentumSgd(parameters, 0.1, 0.9);
        problem.Backward(parameters[..2]);
        Assert.All(parameters[..2], p => Assert.NotEqual(0, p.grad!.abs().sum().item<float>())); // something to zero
        optimizer.zero_grad();
        Assert.All(parameters[..2], p => Assert.Equal(0, p.grad!.abs().sum().item<float>()));
        Assert.Null(parameters[2].grad);
    }
}
