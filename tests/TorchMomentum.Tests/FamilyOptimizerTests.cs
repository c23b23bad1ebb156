using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchMomentum.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;
using static TorchSharp.torch.optim.lr_scheduler;

namespace TorchMomentum.Tests;

/// <summary>
/// The family's optimizers behave as TorchSharp optimizers do: refusals that name the parameter, state_dict round
/// trips that continue exactly, param groups, schedulers, schedule-free's two modes, the average's first copy, and
/// no tensor left behind by a step. That each rule is its reference's is FamilyParityTests.
/// </summary>
public sealed class FamilyOptimizerTests
{
    /// <summary>Each optimizer over a net's parameters, at settings that move every part of its rule.</summary>
    public static readonly Dictionary<string, Func<IEnumerable<Parameter>, OptimizerHelper>> Build = new()
    {
        ["qhm"] = p => new Qhm(p, 0.05, beta: 0.9, nu: 0.7, weight_decay: 0.01),
        ["aggmo"] = p => new AggMo(p, 0.01, [0, 0.9, 0.99], weight_decay: 0.01),
        ["accsgd"] = p => new AccSgd(p, 0.01, weight_decay: 0.01),
        ["schedule-free"] = p => new ScheduleFreeSgd(p, 0.1, warmup_steps: 10, weight_decay: 0.01),
        ["lion"] = p => new Lion(p, 0.001, weight_decay: 0.1),
    };

    public static TheoryData<string> Names() => [.. Build.Keys];

    public static TheoryData<string, string> BadArguments() => new()
    {
        { "nu", "nu must be a number in [0, 1] (got '1.5')" },
        { "beta", "beta must be a number in [0, 1) (got '1')" },
        { "lr", "lr must be a number in (0, inf) (got '0')" },
        { "kappa", "kappa must be a number in [1, inf) (got '0.5')" },
        { "xi", "xi must be a number in (0, 31.622776601683793] (got '40')" },
        { "betas", "betas must be a number in [0, 1) (got '-0.5')" },
        { "beta2", "beta2 must be a number in [0, 1) (got '1.5')" },
        { "momentum", "momentum must be a number in (0, 1) (got '0')" },
        { "decay", "decay must be a number in [0, 1) (got '1')" },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void A_bad_argument_is_one_ArgumentException_naming_the_parameter(string parameter, string message)
    {
        using var net = new Net();
        var p = net.parameters();
        Action build = parameter switch
        {
            "nu" => () => new Qhm(p, 0.1, nu: 1.5),
            "beta" => () => new Qhm(p, 0.1, beta: 1),
            "lr" => () => new Lion(p, 0),
            "kappa" => () => new AccSgd(p, 0.1, kappa: 0.5),
            "xi" => () => new AccSgd(p, 0.1, kappa: 1000, xi: 40),
            "betas" => () => new AggMo(p, 0.1, [0.9, -0.5]),
            "beta2" => () => new Lion(p, 0.1, beta2: 1.5),
            "momentum" => () => new ScheduleFreeSgd(p, 0.1, momentum: 0),
            "decay" => () => new AveragedModel(net, new Net(), decay: 1),
            _ => throw new ArgumentException(parameter),
        };
        var e = Assert.Throws<ArgumentException>(build);
        Assert.Equal(parameter, e.ParamName);
        Assert.StartsWith(message, e.Message);
    }

    /// <summary>Trains <paramref name="net"/> <paramref name="steps"/> steps of full-batch MSE on the chapter's data.</summary>
    private static void Train(Net net, Optimizer optimizer, int steps, LRScheduler? scheduler = null)
    {
        // No draw from the global generator, which other tests' runs swap in and out: data from a formula.
        Tensor x, y;
        using (NewDisposeScope())
        {
            x = linspace(-1, 1, 64).unsqueeze(1).MoveToOuterDisposeScope();
            y = (x.pow(2) + 0.1 * (37 * x).sin()).MoveToOuterDisposeScope();
        }
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.mse_loss(net.forward(x), y).backward();
            optimizer.step();
            scheduler?.step();
        }
        x.Dispose();
        y.Dispose();
    }

    /// <summary>The same net every time, drawing nothing: weights from a formula.</summary>
    private static Net NewNet()
    {
        int k = 0;
        var weights = Net.ParameterShapes(20).ToDictionary(p => p.Name, p =>
        {
            int n = (int)p.Shape.Aggregate(1L, (a, b) => a * b);
            var values = Enumerable.Range(k, n).Select(i => (float)Math.Sin(1.7 * i + 0.3)).ToArray();
            k += n;
            return tensor(values, p.Shape);
        });
        var net = Net.FromWeights(20, weights);
        foreach (var w in weights.Values) w.Dispose();
        return net;
    }

    private static bool Same(Tensor a, Tensor b) => a.allclose(b, rtol: 0, atol: 0);

    [Theory]
    [MemberData(nameof(Names))]
    public void A_saved_state_continues_exactly_in_a_new_optimizer(string name)
    {
        string file = Path.GetTempFileName();
        try
        {
            using var straight = NewNet();
            using var straightOptimizer = Build[name](straight.parameters());
            Train(straight, straightOptimizer, 20);

            using var first = NewNet();
            using (var optimizer = Build[name](first.parameters()))
            {
                Train(first, optimizer, 12);
                optimizer.save_state_dict(file);
            }
            using var second = first.Copy();
            using var resumed = Build[name](second.parameters());
            resumed.load_state_dict(file);
            Train(second, resumed, 8);
            Assert.Equal(0.0, Net.MaxDifference(straight, second));

            // And in memory: state_dict into a third optimizer takes copies, which go on the same way.
            using var third = second.Copy();
            using var copied = Build[name](third.parameters());
            copied.load_state_dict(resumed.state_dict());
            Train(second, resumed, 3);
            Train(third, copied, 3);
            Assert.Equal(0.0, Net.MaxDifference(second, third));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_scheduler_sets_the_lr_the_step_uses(string name)
    {
        // StepLR halving every step against the optimizer at lr/2 after the first step done by hand.
        using var scheduled = NewNet();
        using var optimizer = Build[name](scheduled.parameters());
        double lr = optimizer.ParamGroups.First().LearningRate;
        var scheduler = lr_scheduler.StepLR(optimizer, 1, 0.5);
        Train(scheduled, optimizer, 2, scheduler);
        Assert.Equal(lr / 4, optimizer.ParamGroups.First().LearningRate, 15);
        using var untouched = NewNet();
        using var constant = Build[name](untouched.parameters());
        Train(untouched, constant, 2);
        Assert.NotEqual(0.0, Net.MaxDifference(scheduled, untouched));
    }

    [Fact]
    public void A_group_overrides_the_defaults_and_takes_the_rest_from_them()
    {
        using var net = NewNet();
        var named = net.named_parameters().ToArray();
        var fast = new ParamGroup<Qhm.Options>(named.Where(p => p.name.StartsWith("hidden")).Select(p => p.parameter), new Qhm.Options { nu = 1 });
        var rest = new ParamGroup<Qhm.Options>(named.Where(p => p.name.StartsWith("predict")).Select(p => p.parameter));
        using var qhm = new Qhm([fast, rest], 0.05, beta: 0.9, nu: 0.7);
        Assert.Equal((1.0, 0.9, 0.05), (fast.Options.nu!.Value, fast.Options.beta!.Value, fast.Options.LearningRate!.Value));
        Assert.Equal(0.7, rest.Options.nu!.Value);
        Assert.Throws<ArgumentException>(() => qhm.add_param_group(new ParamGroup<Qhm.Options>([named[0].parameter])));
    }

    [Fact]
    public void Schedule_free_trains_at_y_evaluates_at_x_and_refuses_to_step_in_eval_mode()
    {
        using var net = NewNet();
        using var optimizer = new ScheduleFreeSgd(net.parameters(), 0.1);
        Train(net, optimizer, 5);
        var p = net.parameters().First();
        var state = optimizer.StateOf(p);
        Assert.True(Same(p, state[ScheduleFreeSgd.Y]!));
        Assert.False(Same(p, state[ScheduleFreeSgd.X]!));
        optimizer.Eval();
        Assert.True(Same(p, state[ScheduleFreeSgd.X]!));
        Assert.Throws<InvalidOperationException>(() => optimizer.step());
        optimizer.Train();
        Assert.True(Same(p, state[ScheduleFreeSgd.Y]!));
    }

    [Theory]
    [InlineData(0.9)]
    [InlineData(null)]
    public void The_average_copies_the_weights_first_then_averages(double? decay)
    {
        using var net = NewNet();
        using var copy = new Net();
        using var average = new AveragedModel(net, copy, decay);
        Assert.Equal(0.0, Net.MaxDifference(net, copy)); // the weights now, as a deep copy's
        using var optimizer = SGD(net.parameters(), 0.1);
        Train(net, optimizer, 1);
        using var before = copy.Copy();
        average.UpdateParameters(net);
        Assert.Equal(0.0, Net.MaxDifference(net, copy)); // the first update copies
        using var first = net.Copy();
        Train(net, optimizer, 1);
        average.UpdateParameters(net);
        // The second: decay a + (1 - decay) p, or the mean of the two.
        double w = decay ?? 0.5;
        using var expected = first.Copy();
        using (no_grad())
            foreach (var (e, (f, n)) in expected.parameters().Zip(first.parameters().Zip(net.parameters()))) e.copy_(f * w + n * (1 - w));
        Assert.InRange(Net.MaxDifference(expected, copy), 0, 1e-7);
        Assert.Equal(2, average.NAveraged);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_step_leaves_no_tensor_behind(string name)
    {
        var stats = DisposeScopeManager.Statistics.TensorStatistics;
        long Live() => stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount - stats.DisposedInScopeCount - stats.DisposedOutsideScopeCount;
        using var net = NewNet();
        using var optimizer = Build[name](net.parameters());
        Train(net, optimizer, 3); // the first steps make the state
        long before = Live();
        Train(net, optimizer, 50);
        Assert.Equal(before, Live());
    }

    [Theory]
    [InlineData("aggmo", ScalarType.Float32)]
    [InlineData("aggmo", ScalarType.Float64)]
    [InlineData("lion", ScalarType.Float32)]
    [InlineData("lion", ScalarType.Float64)]
    public void The_one_pass_cpu_loop_gives_the_tensor_operations_bits(string name, ScalarType dtype)
    {
        // Sizes across chunks and vector tails; gradients of all signs, zeros among them (Lion's sign of 0).
        long[][] shapes = [[2 * 16384 + 13], [7], [3, 5]];
        Parameter[] Parameters()
        {
            using var generator = new Generator(11);
            return shapes.Select(s => new Parameter(randn(s, dtype: dtype, generator: generator))).ToArray();
        }
        var (a, b) = (Parameters(), Parameters());
        OptimizerHelper Build(Parameter[] p, bool fused) => name == "aggmo"
            ? new AggMo(p, 0.01, [0, 0.9, 0.99, 0.5, 0.7], weight_decay: 0.01, fused: fused) // two passes: four buffers, then one
            : new Lion(p, 0.001, weight_decay: 0.1, fused: fused);
        using var loop = Build(a, fused: true);
        using var tensors = Build(b, fused: false);
        using var gradients = new Generator(12);
        for (int i = 0; i < shapes.Length; i++)
        {
            a[i].grad = zeros(shapes[i], dtype: dtype);
            b[i].grad = zeros(shapes[i], dtype: dtype);
        }
        for (int step = 0; step < 10; step++)
        {
            for (int i = 0; i < shapes.Length; i++)
            {
                var g = randn(shapes[i], dtype: dtype, generator: gradients);
                g.masked_fill_(g.abs() < 0.1, 0);
                using (no_grad())
                {
                    a[i].grad!.copy_(g);
                    b[i].grad!.copy_(g);
                }
            }
            loop.step();
            tensors.step();
        }
        for (int i = 0; i < shapes.Length; i++) Assert.True(Same(a[i], b[i]), $"parameter {i} differs");
        var (sa, sb) = (loop.state_dict().State, tensors.state_dict().State);
        for (int i = 0; i < shapes.Length; i++)
        {
            var (na, nb) = ((NamedState)sa[i], (NamedState)sb[i]);
            foreach (var field in na.Names) Assert.True(Same(na[field]!, nb[field]!), $"{field} of parameter {i} differs");
        }
    }
}
