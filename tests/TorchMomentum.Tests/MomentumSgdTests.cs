using TorchMomentum.Optimizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

public class MomentumSgdTests
{
    private static readonly long[][] Shapes = [[3, 2], [4]];

    internal static (Quadratic Problem, Parameter[] Parameters) Problem(ScalarType dtype = ScalarType.Float64, ulong seed = 7)
    {
        using var generator = new Generator(seed);
        return (Quadratic.Random(Shapes, dtype, generator), Quadratic.Parameters(Shapes, dtype, generator));
    }

    internal static void Train(Quadratic problem, IReadOnlyList<Parameter> parameters, optim.Optimizer optimizer, int steps,
        optim.lr_scheduler.LRScheduler? scheduler = null)
    {
        for (int i = 0; i < steps; i++)
        {
            problem.Backward(parameters);
            optimizer.step();
            scheduler?.step();
        }
    }

    [Fact]
    public void A_scheduler_drives_the_learning_rate_exactly_as_it_drives_sgds()
    {
        var (problem, ours) = Problem();
        using var _ = problem;
        var theirs = Quadratic.Copy(ours);
        using var ourOptimizer = new MomentumSgd(ours, 0.1, 0.9);
        using var theirOptimizer = optim.SGD(theirs, 0.1, 0.9);
        var ourSchedule = optim.lr_scheduler.StepLR(ourOptimizer, step_size: 5, gamma: 0.1);
        var theirSchedule = optim.lr_scheduler.StepLR(theirOptimizer, step_size: 5, gamma: 0.1);

        Train(problem, ours, ourOptimizer, 7, ourSchedule);
        Train(problem, theirs, theirOptimizer, 7, theirSchedule);

        Assert.Equal(0.01, ourOptimizer.ParamGroups.Single().LearningRate, 15);
        Assert.True(Quadratic.Bitwise(ours, theirs));
    }

    [Fact]
    public void A_momentum_cycling_scheduler_drives_momentum_through_IMomentum()
    {
        var (problem, ours) = Problem();
        using var _ = problem;
        var theirs = Quadratic.Copy(ours);
        using var ourOptimizer = new MomentumSgd(ours, 0.1, 0.9);
        using var theirOptimizer = optim.SGD(theirs, 0.1, 0.9);
        var ourSchedule = optim.lr_scheduler.OneCycleLR(ourOptimizer, max_lr: 0.1, total_steps: 20);
        var theirSchedule = optim.lr_scheduler.OneCycleLR(theirOptimizer, max_lr: 0.1, total_steps: 20);
        double startMomentum = ((optim.IMomentum)ourOptimizer.ParamGroups.Single()).Momentum;

        Train(problem, ours, ourOptimizer, 8, ourSchedule);
        Train(problem, theirs, theirOptimizer, 8, theirSchedule);

        Assert.NotEqual(startMomentum, ((optim.IMomentum)ourOptimizer.ParamGroups.Single()).Momentum);
        Assert.True(Quadratic.Bitwise(ours, theirs));
    }

    [Fact]
    public void Two_param_groups_keep_their_own_learning_rates()
    {
        var (problem, ours) = Problem();
        using var _ = problem;
        var theirs = Quadratic.Copy(ours);
        using var ourOptimizer = new MomentumSgd(
            [new MomentumSgd.ParamGroup([ours[0]]), new MomentumSgd.ParamGroup([ours[1]], new MomentumSgd.Options { LearningRate = 0.001 })],
            lr: 0.1, momentum: 0.9);
        using var theirOptimizer = optim.SGD(
            [new SGD.ParamGroup([theirs[0]], lr: 0.1, momentum: 0.9), new SGD.ParamGroup([theirs[1]], lr: 0.001, momentum: 0.9)], 0.1, 0.9);
        using var start = ours[1].detach().clone();

        Train(problem, ours, ourOptimizer, 5);
        Train(problem, theirs, theirOptimizer, 5);

        Assert.Equal([0.1, 0.001], ourOptimizer.ParamGroups.Select(g => g.LearningRate));
        Assert.True(Quadratic.Bitwise(ours, theirs));
        Assert.False(Quadratic.Bitwise([start], [ours[1]]), "the second group did not move at all");
    }

    [Fact]
    public void A_parameter_without_a_gradient_is_left_alone_and_gets_no_buffer()
    {
        using var generator = new Generator(3);
        using var problem = Quadratic.Random([[5]], ScalarType.Float32, generator);
        var trained = Quadratic.Parameters([[5]], ScalarType.Float32, generator);
        var frozen = new Parameter(randn(4, generator: generator));
        using var before = frozen.detach().clone();
        using var optimizer = new MomentumSgd([trained[0], frozen], 0.1, 0.9);

        Train(problem, trained, optimizer, 3);

        Assert.Null(frozen.grad);
        Assert.True(Quadratic.Bitwise([before], [frozen]));
        Assert.Null(optimizer.MomentumBuffer(frozen));
        Assert.NotNull(optimizer.MomentumBuffer(trained[0]));
    }

    /// <summary>Asserts every parameter's buffer has its parameter's dtype, device and shape.</summary>
    private static void AssertBuffersMatch(MomentumSgd optimizer, IEnumerable<Parameter> parameters) => Assert.All(parameters, p =>
    {
        var buffer = optimizer.MomentumBuffer(p);
        Assert.NotNull(buffer);
        Assert.Equal(p.dtype, buffer.dtype);
        Assert.Equal((p.device_type, p.device_index), (buffer.device_type, buffer.device_index));
        Assert.Equal(p.shape, buffer.shape);
    });

    [Theory]
    [InlineData(ScalarType.Float32, MomentumFormulation.PyTorch, true)]
    [InlineData(ScalarType.Float64, MomentumFormulation.PyTorch, true)]
    [InlineData(ScalarType.Float64, MomentumFormulation.PyTorch, false)]
    [InlineData(ScalarType.Float64, MomentumFormulation.Chapter, true)]
    [InlineData(ScalarType.Float64, MomentumFormulation.Chapter, false)]
    public void New_buffers_take_the_parameters_dtype(ScalarType dtype, MomentumFormulation formulation, bool fused)
    {
        // float64 is the case that can fail: a buffer made with torch's default dtype would be float32.
        var (problem, parameters) = Problem(dtype);
        using var _ = problem;
        using var optimizer = new MomentumSgd(parameters, 0.1, 0.9, formulation: formulation, fused: fused);
        Train(problem, parameters, optimizer, 1);
        AssertBuffersMatch(optimizer, parameters);
    }

    /// <summary>How a saved state reaches the optimizer that loads it.</summary>
    public enum LoadChannel { Stream, StateDict }

    [Theory]
    [InlineData(LoadChannel.Stream, MomentumFormulation.PyTorch, true)]
    [InlineData(LoadChannel.Stream, MomentumFormulation.PyTorch, false)]
    [InlineData(LoadChannel.StateDict, MomentumFormulation.PyTorch, true)]
    [InlineData(LoadChannel.StateDict, MomentumFormulation.PyTorch, false)]
    [InlineData(LoadChannel.Stream, MomentumFormulation.Chapter, false)]
    [InlineData(LoadChannel.StateDict, MomentumFormulation.Chapter, false)]
    public void A_state_saved_in_float32_loads_into_float64_parameters_as_float64(LoadChannel channel, MomentumFormulation formulation, bool fused)
    {
        // PyTorch's Optimizer.load_state_dict casts each state tensor to its parameter's dtype and device. A
        // float32 buffer kept as it is would round every later step of a float64 run to float32.
        var (problem32, single) = Problem(ScalarType.Float32);
        using var _ = problem32;
        using var saved = new MomentumSgd(single, 0.1, 0.9, formulation: formulation);
        Train(problem32, single, saved, 3);
        var (problem, doubles) = Problem(ScalarType.Float64);
        using var __ = problem;
        var reference = Quadratic.Copy(doubles);
        using var loaded = new MomentumSgd(doubles, 0.1, 0.9, formulation: formulation, fused: fused);
        using var referenceOptimizer = new MomentumSgd(reference, 0.1, 0.9, formulation: formulation, fused: fused);
        if (channel == LoadChannel.Stream)
        {
            var stream = new MemoryStream();
            saved.save_state_dict(new BinaryWriter(stream));
            stream.Position = 0;
            loaded.load_state_dict(new BinaryReader(stream));
        }
        else loaded.load_state_dict(saved.state_dict());

        AssertBuffersMatch(loaded, doubles);
        Assert.True(Quadratic.Bitwise(single.Select(saved.MomentumBuffer).ToArray(), doubles.Select(loaded.MomentumBuffer).ToArray()));
        // And the run goes on in float64: as a float64 optimizer handed the same buffers, converted, by hand.
        referenceOptimizer.load_state_dict(loaded.state_dict());
        Train(problem, doubles, loaded, 4);
        Train(problem, reference, referenceOptimizer, 4);
        AssertBuffersMatch(loaded, doubles);
        Assert.True(Quadratic.Bitwise(doubles, reference));
    }

    [Theory]
    [InlineData(MomentumFormulation.PyTorch, true)]
    [InlineData(MomentumFormulation.PyTorch, false)]
    [InlineData(MomentumFormulation.Chapter, true)]
    public void On_cuda_buffers_live_on_the_parameters_device_also_after_loading_a_cpu_state(MomentumFormulation formulation, bool fused)
    {
        Assert.SkipUnless(cuda.is_available(), "needs a CUDA device (and a build with -p:TorchBackend=cuda); the CPU tests above check dtypes and loads");
        var (problem, onCpu) = Problem(ScalarType.Float32);
        using var _ = problem;
        using var cudaProblem = problem.To(CUDA);
        var parameters = onCpu.Select(p => new Parameter(p.detach().to(CUDA))).ToArray();
        using var optimizer = new MomentumSgd(parameters, 0.1, 0.9, formulation: formulation, fused: fused);
        Train(cudaProblem, parameters, optimizer, 2);
        AssertBuffersMatch(optimizer, parameters);

        // A state saved on the CPU loads onto the parameters' device.
        var cpuParameters = Quadratic.Copy(onCpu);
        using var cpuOptimizer = new MomentumSgd(cpuParameters, 0.1, 0.9, formulation: formulation);
        Train(problem, cpuParameters, cpuOptimizer, 2);
        optimizer.load_state_dict(cpuOptimizer.state_dict());
        AssertBuffersMatch(optimizer, parameters);
    }

    [Theory]
    [InlineData(MomentumFormulation.PyTorch, true)]
    [InlineData(MomentumFormulation.PyTorch, false)]
    [InlineData(MomentumFormulation.Chapter, true)]
    public void Moving_the_optimizer_moves_every_buffer_and_keeps_its_shape(MomentumFormulation formulation, bool fused)
    {
        // The meta device holds shapes and dtypes but no data: a real move, possible on any machine,
        // that a to() which kept the old buffers (as TorchSharp 0.107's SGD once did) would fail.
        var (problem, parameters) = Problem();
        using var _ = problem;
        using var optimizer = new MomentumSgd(parameters, 0.1, 0.9, formulation: formulation, fused: fused);
        Train(problem, parameters, optimizer, 1);
        optimizer.to(new Device(DeviceType.META));
        Assert.All(parameters, p =>
        {
            var buffer = optimizer.MomentumBuffer(p)!;
            Assert.Equal(DeviceType.META, buffer.device_type);
            Assert.Equal(p.shape, buffer.shape);
        });
    }

    [Fact]
    public void State_saved_mid_training_and_loaded_into_a_fresh_optimizer_continues_exactly()
    {
        var (problem, uninterrupted) = Problem(ScalarType.Float32);
        using var _ = problem;
        using var optimizer = new MomentumSgd(uninterrupted, 0.05, 0.9, dampening: 0.1, weight_decay: 0.01);
        Train(problem, uninterrupted, optimizer, 6);

        var stream = new MemoryStream();
        optimizer.save_state_dict(new BinaryWriter(stream));
        var resumedParameters = Quadratic.Copy(uninterrupted);
        var fromObject = Quadratic.Copy(uninterrupted);
        // A fresh optimizer with other hyperparameters: loading must bring back the saved ones too.
        using var resumed = new MomentumSgd(resumedParameters, 1.0, 0.5);
        stream.Position = 0;
        resumed.load_state_dict(new BinaryReader(stream));
        using var resumedFromObject = new MomentumSgd(fromObject, 1.0, 0.5);
        resumedFromObject.load_state_dict(optimizer.state_dict());

        Train(problem, uninterrupted, optimizer, 6);
        Train(problem, resumedParameters, resumed, 6);
        Train(problem, fromObject, resumedFromObject, 6);

        Assert.True(Quadratic.Bitwise(uninterrupted, resumedParameters));
        Assert.True(Quadratic.Bitwise(uninterrupted, fromObject));
        Assert.True(Quadratic.Bitwise(uninterrupted.Select(optimizer.MomentumBuffer).ToArray(), fromObject.Select(resumedFromObject.MomentumBuffer).ToArray()));
    }

    [Fact]
    public void With_maximize_and_weight_decay_it_follows_pytorch_not_torchsharp()
    {
        // PyTorch: g = -grad + wd * p; b = g (first step); p = p - lr * b. TorchSharp: b = grad + wd * p; p = p + lr * b.
        var p = new Parameter(tensor(new[] { 2.0, -1.0 }));
        var q = Quadratic.Copy([p])[0];
        using var ours = new MomentumSgd([p], lr: 0.1, momentum: 0.9, weight_decay: 0.5, maximize: true);
        using var theirs = optim.SGD([q], 0.1, 0.9, weight_decay: 0.5, maximize: true);
        foreach (var (parameter, optimizer) in new (Parameter, optim.Optimizer)[] { (p, ours), (q, theirs) })
        {
            (parameter * tensor(new[] { 3.0, 4.0 })).sum().backward(); // grad = (3, 4)
            optimizer.step();
        }
        // g = -(3, 4) + 0.5 * (2, -1) = (-2, -4.5); p = (2, -1) - 0.1 * g = (2.2, -0.55)
        Assert.Equal(new[] { 2.2, -0.55 }, p.data<double>().ToArray(), new ToleranceComparer(1e-15));
        Assert.Equal(new[] { -2.0, -4.5 }, ours.MomentumBuffer(p)!.data<double>().ToArray(), new ToleranceComparer(1e-15));
        // TorchSharp: b = (3, 4) + 0.5 * (2, -1) = (4, 3.5); p = (2, -1) + 0.1 * b = (2.4, -0.65)
        Assert.Equal(new[] { 2.4, -0.65 }, q.data<double>().ToArray(), new ToleranceComparer(1e-15));
    }

    [Fact]
    public void The_two_forms_part_when_the_learning_rate_changes()
    {
        // PyTorch 1.13, float64: p0 = linspace(-1, 1, 10), f = 0.5 * |p|^2, SGD(lr 0.1, momentum 0.9),
        // StepLR(step_size 5, gamma 0.1), 10 steps; the chapter form's velocity update done by hand.
        double[] pytorchFinal = [0.115839979939368, 0.09009776217506406, 0.06435554441076004, 0.03861332664645606, 0.012871108882152012,
            -0.012871108882152002, -0.03861332664645601, -0.06435554441076004, -0.09009776217506406, -0.115839979939368];
        const double pytorchGap = 0.8138081856971161;

        double[] Run(MomentumFormulation formulation)
        {
            var p = new Parameter(linspace(-1, 1, 10, dtype: ScalarType.Float64));
            using var optimizer = new MomentumSgd([p], 0.1, 0.9, formulation: formulation);
            var schedule = optim.lr_scheduler.StepLR(optimizer, step_size: 5, gamma: 0.1);
            using var problem = new Quadratic([ones(10, dtype: ScalarType.Float64)], [zeros(10, dtype: ScalarType.Float64)]);
            Train(problem, [p], optimizer, 10, schedule);
            return p.data<double>().ToArray();
        }

        var pytorch = Run(MomentumFormulation.PyTorch);
        var chapter = Run(MomentumFormulation.Chapter);
        Assert.Equal(pytorchFinal, pytorch, new ToleranceComparer(1e-15));
        Assert.Equal(pytorchGap, pytorch.Zip(chapter, (a, b) => Math.Abs(a - b)).Max(), 12);
    }

    [Fact]
    public void With_a_constant_learning_rate_the_chapter_form_tracks_the_pytorch_form()
    {
        var (problem, chapter) = Problem(ScalarType.Float64);
        using var _ = problem;
        var pytorch = Quadratic.Copy(chapter);
        using var chapterOptimizer = new MomentumSgd(chapter, 0.05, 0.8, formulation: MomentumFormulation.Chapter);
        using var pytorchOptimizer = new MomentumSgd(pytorch, 0.05, 0.8);
        Train(problem, chapter, chapterOptimizer, 50);
        Train(problem, pytorch, pytorchOptimizer, 50);
        for (int i = 0; i < chapter.Length; i++)
        {
            Assert.InRange((chapter[i] - pytorch[i]).abs().max().item<double>(), 0, 1e-14);
            // v = lr * b
            Assert.InRange((chapterOptimizer.MomentumBuffer(chapter[i])! - 0.05 * pytorchOptimizer.MomentumBuffer(pytorch[i])!).abs().max().item<double>(), 0, 1e-15);
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void The_teaching_function_equals_the_chapter_form_bit_for_bit(ScalarType dtype)
    {
        // The chapter's sgd_momentum (section 5.5.1), line for line: v[:] = gamma * v + lr * g; p = p - v.
        static void SgdMomentum(IReadOnlyList<Parameter> parameters, IReadOnlyList<Tensor> vs, double lr, double gamma)
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            foreach (var (param, v) in parameters.Zip(vs))
            {
                v.copy_(gamma * v + lr * param.grad!);
                param.sub_(v);
            }
        }

        var (problem, byHand) = Problem(dtype);
        using var _ = problem;
        var optimized = Quadratic.Copy(byHand);
        var vs = byHand.Select(p => zeros_like(p)).ToArray();
        using var optimizer = new MomentumSgd(optimized, 0.05, 0.8, formulation: MomentumFormulation.Chapter);
        for (int i = 0; i < 40; i++)
        {
            problem.Backward(byHand);
            SgdMomentum(byHand, vs, 0.05, 0.8);
        }
        Train(problem, optimized, optimizer, 40);
        Assert.True(Quadratic.Bitwise(byHand, optimized));
        Assert.True(Quadratic.Bitwise(vs, optimized.Select(optimizer.MomentumBuffer).ToArray()));
    }

    [Theory]
    [InlineData(-0.1, 0.9, 0, 0, false, false, "lr must be a number in [0, inf) (got '-0.1')")]
    [InlineData(double.NaN, 0.9, 0, 0, false, false, "lr must be a number in [0, inf) (got 'NaN')")]
    [InlineData(double.PositiveInfinity, 0.9, 0, 0, false, false, "lr must be a number in [0, inf) (got 'Infinity')")]
    [InlineData(0.1, -0.5, 0, 0, false, false, "momentum must be a number in [0, inf) (got '-0.5')")]
    [InlineData(0.1, 0.9, 0, -1, false, false, "weight_decay must be a number in [0, inf) (got '-1')")]
    [InlineData(0.1, 0, 0, 0, true, false, "Nesterov momentum requires momentum > 0 and dampening = 0 (got momentum = 0, dampening = 0)")]
    [InlineData(0.1, 0.9, 0.5, 0, true, false, "(got momentum = 0.9, dampening = 0.5)")]
    public void Bad_arguments_are_refused_naming_the_argument_and_value(double lr, double momentum, double dampening,
        double weightDecay, bool nesterov, bool maximize, string expected)
    {
        var p = new Parameter(zeros(2));
        var error = Assert.Throws<ArgumentException>(() => new MomentumSgd([p], lr, momentum, dampening, weightDecay, nesterov, maximize));
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData(0.5, false, 0, false)]
    [InlineData(0, true, 0, false)]
    [InlineData(0, false, 0.01, false)]
    [InlineData(0, false, 0, true)]
    public void The_chapter_form_refuses_what_the_chapter_does_not_define(double dampening, bool nesterov, double weightDecay, bool maximize)
    {
        var p = new Parameter(zeros(2));
        var error = Assert.Throws<ArgumentException>(() =>
            new MomentumSgd([p], 0.1, 0.9, dampening, weightDecay, nesterov, maximize, MomentumFormulation.Chapter));
        Assert.Equal("formulation", error.ParamName);
        Assert.Contains("chapter formulation is defined only without", error.Message);
    }

    [Theory]
    [InlineData(ScalarType.Float32, 0.0)]
    [InlineData(ScalarType.Float32, 1e-50)] // float32 holds it as 0
    [InlineData(ScalarType.Float64, 0.0)]
    public void At_lr_0_the_chapter_form_refuses_to_make_up_a_pytorch_buffer(ScalarType dtype, double lr)
    {
        // v = lr * b: at lr 0 the velocity is 0 whatever PyTorch's buffer would be, and v / lr is 0/0.
        var (problem, parameters) = Problem(dtype);
        using var _ = problem;
        using var optimizer = new MomentumSgd(parameters, lr, 0.9, formulation: MomentumFormulation.Chapter);
        Train(problem, parameters, optimizer, 2);
        var error = Assert.Throws<InvalidOperationException>(() => optimizer.PyTorchMomentumBuffer(parameters[0]));
        Assert.Contains("cannot give PyTorch's momentum buffer", error.Message);
        // The PyTorch form keeps b itself, so it has one to give at any lr.
        var (problem2, others) = Problem(dtype);
        using var __ = problem2;
        using var pytorch = new MomentumSgd(others, lr, 0.9);
        Train(problem2, others, pytorch, 2);
        using var buffer = pytorch.PyTorchMomentumBuffer(others[0])!;
        Assert.True(buffer.isfinite().all().item<bool>());
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }
}
