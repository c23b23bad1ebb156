using TorchMomentum.Optimizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using StateDictionary = TorchSharp.torch.optim.Optimizer.StateDictionary;

namespace TorchMomentum.Tests;

/// <summary>
/// MomentumSgd as a drop-in for TorchSharp's SGD: what SGD accepts (sparse gradients, its param groups, its
/// saved state) MomentumSgd accepts too, and what PyTorch refuses (a parameter in two groups) it refuses.
/// </summary>
public class MomentumSgdDropInTests
{
    private const double Lr = 0.05;

    /// <summary>Parameters of the given shapes with random values, the same for every call.</summary>
    private static Parameter[] Parameters(params long[][] shapes)
    {
        using var generator = new Generator(1);
        return Quadratic.Parameters(shapes, ScalarType.Float32, generator);
    }

    [Fact]
    public void A_parameter_in_two_groups_is_refused_as_pytorch_refuses_it()
    {
        var p = Parameters([3], [2]);
        var error = Assert.Throws<ArgumentException>(() =>
            new MomentumSgd([new MomentumSgd.ParamGroup(p), new MomentumSgd.ParamGroup([p[1]])], lr: 0.1, momentum: 0.9));
        Assert.Contains("Some parameters appear in more than one parameter group", error.Message);
    }

    [Fact]
    public void Adding_a_group_with_a_parameter_already_optimized_is_refused_and_changes_nothing()
    {
        var p = Parameters([3], [2]);
        using var optimizer = new MomentumSgd([p[0]], lr: 0.1, momentum: 0.9);
        var error = Assert.Throws<ArgumentException>(() => optimizer.add_param_group(new MomentumSgd.ParamGroup(p)));
        Assert.Contains("Some parameters appear in more than one parameter group", error.Message);
        Assert.Single(optimizer.ParamGroups);
    }

    [Fact]
    public void A_parameter_listed_twice_in_one_group_is_refused_rather_than_stepped_twice()
    {
        var p = Parameters([3]);
        // A second handle to the same tensor (Tensor.to a device it is already on returns one) is the same parameter.
        var sameTensor = new Parameter(p[0].to(p[0].device));
        foreach (var twice in new[] { new[] { p[0], p[0] }, new[] { p[0], sameTensor } })
        {
            var error = Assert.Throws<ArgumentException>(() => new MomentumSgd(twice, lr: 0.1));
            Assert.Contains("A parameter appears more than once in one parameter group", error.Message);
        }
    }

    [Theory]
    [InlineData(0.0, 0.0, false, MomentumFormulation.PyTorch)]
    [InlineData(0.9, 0.1, false, MomentumFormulation.PyTorch)]
    [InlineData(0.9, 0.0, true, MomentumFormulation.PyTorch)]
    [InlineData(0.8, 0.0, false, MomentumFormulation.Chapter)]
    public void Sparse_gradients_are_stepped_one_parameter_at_a_time_exactly_as_sgd_steps_them(double momentum, double dampening,
        bool nesterov, MomentumFormulation formulation)
    {
        var fused = SparseNet.Train(p => new MomentumSgd(p, Lr, momentum, dampening, nesterov: nesterov, formulation: formulation));
        var unfused = SparseNet.Train(p => new MomentumSgd(p, Lr, momentum, dampening, nesterov: nesterov, formulation: formulation, fused: false));
        Assert.True(fused.HadSparseGradient);
        Assert.True(Quadratic.Bitwise(fused.Parameters, unfused.Parameters));
        if (formulation == MomentumFormulation.PyTorch)
            Assert.True(Quadratic.Bitwise(fused.Parameters, SparseNet.Train(p => optim.SGD(p, Lr, momentum, dampening, nesterov: nesterov)).Parameters));
    }

    /// <summary>An embedding with sparse gradients feeding a linear layer with dense ones, both in one param group.</summary>
    private static class SparseNet
    {
        public static (Parameter[] Parameters, bool HadSparseGradient) Train(Func<Parameter[], optim.Optimizer> build)
        {
            manual_seed(5);
            var embedding = nn.Embedding(10, 3, sparse: true);
            var linear = nn.Linear(3, 1);
            Parameter[] parameters = [.. embedding.parameters(), .. linear.parameters()];
            using var optimizer = build(parameters);
            bool sparse = false;
            for (int step = 0; step < 6; step++)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                // Repeated rows give an uncoalesced sparse gradient, whose rounding a dense one would not share.
                var rows = tensor(new long[] { step % 10, 4, 4, (3 * step + 1) % 10 });
                var loss = (linear.forward(embedding.forward(rows)) - 1).pow(2).sum();
                loss.backward();
                sparse |= parameters[0].grad!.is_sparse;
                optimizer.step();
            }
            return (parameters, sparse);
        }
    }

    [Fact]
    public void Param_groups_built_with_named_hyperparameters_train_like_sgds()
    {
        var (problem, ours) = MomentumSgdTests.Problem();
        using var _ = problem;
        var theirs = Quadratic.Copy(ours);
        using var ourOptimizer = new MomentumSgd(
            [
                new MomentumSgd.ParamGroup([ours[0]], lr: 0.05, momentum: 0.9, dampening: 0.1, weight_decay: 0.01),
                new MomentumSgd.ParamGroup([ours[1]], lr: 0.01, momentum: 0.8, nesterov: true),
            ], lr: 1.0);
        using var theirOptimizer = optim.SGD(
            [
                new SGD.ParamGroup([theirs[0]], lr: 0.05, momentum: 0.9, dampening: 0.1, weight_decay: 0.01),
                new SGD.ParamGroup([theirs[1]], lr: 0.01, momentum: 0.8, nesterov: true),
            ], 1.0);

        MomentumSgdTests.Train(problem, ours, ourOptimizer, 8);
        MomentumSgdTests.Train(problem, theirs, theirOptimizer, 8);

        Assert.True(Quadratic.Bitwise(ours, theirs));
    }

    [Fact]
    public void A_hyperparameter_a_named_group_leaves_out_comes_from_the_optimizer()
    {
        var p = Parameters([3]);
        using var optimizer = new MomentumSgd([new MomentumSgd.ParamGroup(p, lr: 0.01)], lr: 0.1, momentum: 0.9, dampening: 0.2);
        var group = (MomentumSgd.ParamGroup)optimizer.ParamGroups.Single();
        Assert.Equal((0.01, 0.9, 0.2, MomentumFormulation.PyTorch), (group.LearningRate, group.Momentum, group.Options.dampening!.Value, group.Options.formulation!.Value));
    }

    /// <summary>How a state travels from one optimizer to another.</summary>
    public enum Channel { File, Stream, StateDict }

    public static readonly TheoryData<double, double, double, bool, Channel, bool> Handovers = Cases(withoutMomentumInMemory: true);

    // TorchSharp's SGD cannot load a state_dict() without momentum buffers (see the test below).
    public static readonly TheoryData<double, double, double, bool, Channel, bool> HandoversSgdCanLoad = Cases(withoutMomentumInMemory: false);

    private static TheoryData<double, double, double, bool, Channel, bool> Cases(bool withoutMomentumInMemory)
    {
        var cases = new TheoryData<double, double, double, bool, Channel, bool>();
        (double Momentum, double Dampening, double WeightDecay, bool Nesterov)[] settings = [(0.9, 0.1, 0.01, false), (0.9, 0, 0, true), (0, 0, 0.01, false)];
        foreach (var (momentum, dampening, weightDecay, nesterov) in settings)
            foreach (var channel in Enum.GetValues<Channel>())
                foreach (bool targetHasState in new[] { false, true })
                    if (momentum != 0 || channel != Channel.StateDict || withoutMomentumInMemory)
                        cases.Add(momentum, dampening, weightDecay, nesterov, channel, targetHasState);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Handovers))]
    public void Sgds_state_continues_exactly_in_MomentumSgd(double momentum, double dampening, double weightDecay, bool nesterov,
        Channel channel, bool targetHasState) =>
        AssertContinuesExactly(
            p => optim.SGD(p, Lr, momentum, dampening, weightDecay, nesterov),
            p => new MomentumSgd(p, 0.5, 0.5),
            (sgd, ours) => HandOver(channel, Saving(sgd), Loading(ours)),
            targetHasState);

    [Theory]
    [MemberData(nameof(HandoversSgdCanLoad))]
    public void MomentumSgds_state_continues_exactly_in_sgd(double momentum, double dampening, double weightDecay, bool nesterov,
        Channel channel, bool targetHasState) =>
        AssertContinuesExactly(
            p => new MomentumSgd(p, Lr, momentum, dampening, weightDecay, nesterov),
            p => optim.SGD(p, 0.5, 0.5),
            (ours, sgd) => HandOver(channel, Saving(ours, sgdFormat: true), Loading(sgd)),
            targetHasState);

    [Fact]
    public void Without_momentum_sgd_cannot_load_a_state_dict_but_MomentumSgd_can()
    {
        // TorchSharp 0.107's SGD.State.LoadStateDict(OptimizerState) copies the source's momentum_buffer with no
        // null check, and without momentum there is none. When these stop throwing, TorchSharp has fixed it.
        var parameters = Parameters([3]);
        using var sgd = optim.SGD(Quadratic.Copy(parameters), Lr);
        using var ours = new MomentumSgd(Quadratic.Copy(parameters), Lr);
        using var target = optim.SGD(Quadratic.Copy(parameters), Lr);
        Assert.Throws<NullReferenceException>(() => target.load_state_dict(sgd.state_dict()));
        Assert.Throws<NullReferenceException>(() => target.load_state_dict(ours.state_dict()));

        AssertContinuesExactly(p => optim.SGD(p, Lr), p => new MomentumSgd(p, 0.5, 0.5), (s, o) => o.load_state_dict(s.state_dict()));
    }

    [Theory]
    [InlineData(MomentumFormulation.PyTorch)]
    [InlineData(MomentumFormulation.Chapter)]
    public void Each_format_has_its_own_name_and_the_reference_type_does_not_change_what_is_written(MomentumFormulation formulation)
    {
        var parameters = Parameters([3]);
        using var ours = new MomentumSgd(parameters, Lr, 0.8, formulation: formulation);
        byte[] Saved(Action<BinaryWriter> save)
        {
            var stream = new MemoryStream();
            save(new BinaryWriter(stream));
            return stream.ToArray();
        }
        byte[] direct = Saved(ours.save_state_dict), helper = Saved(((OptimizerHelper)ours).save_state_dict);
        Assert.Equal(direct, helper);
        Assert.Equal(nameof(MomentumSgd), new BinaryReader(new MemoryStream(direct)).ReadString());
        if (formulation == MomentumFormulation.PyTorch)
            Assert.Equal(nameof(SGD), new BinaryReader(new MemoryStream(Saved(ours.SaveSgdStateDict))).ReadString());
        else
            Assert.Contains("chapter formulation", Assert.Throws<InvalidOperationException>(() => Saved(ours.SaveSgdStateDict)).Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Through_an_OptimizerHelper_reference_the_state_round_trips_in_MomentumSgds_own_format(bool targetHasState)
    {
        // TorchSharp's non-virtual save and load run, not MomentumSgd's: as ChapterRun saves and loads.
        AssertContinuesExactly(
            p => new MomentumSgd(p, Lr, 0.9, dampening: 0.1),
            p => new MomentumSgd(p, 0.5, 0.5),
            (from, to) =>
            {
                var stream = new MemoryStream();
                ((OptimizerHelper)from).save_state_dict(new BinaryWriter(stream));
                stream.Position = 0;
                Assert.Equal(nameof(MomentumSgd), new BinaryReader(stream).ReadString());
                stream.Position = 0;
                ((OptimizerHelper)to).load_state_dict(new BinaryReader(stream));
            },
            targetHasState);
    }

    [Theory]
    [InlineData(Channel.File)]
    [InlineData(Channel.Stream)]
    [InlineData(Channel.StateDict)]
    public void Sgds_state_is_refused_by_the_chapter_form_which_stays_as_it_was(Channel channel)
    {
        var (problem, parameters) = MomentumSgdTests.Problem(ScalarType.Float32);
        using var _ = problem;
        var chapterParameters = Quadratic.Copy(parameters);
        using var sgd = optim.SGD(parameters, Lr, 0.8);
        using var chapter = new MomentumSgd(chapterParameters, Lr, 0.8, formulation: MomentumFormulation.Chapter);
        MomentumSgdTests.Train(problem, parameters, sgd, 2);
        MomentumSgdTests.Train(problem, chapterParameters, chapter, 1);
        var velocities = chapterParameters.Select(p => chapter.MomentumBuffer(p)!.clone()).ToArray();

        var error = Assert.ThrowsAny<Exception>(() => HandOver(channel, Saving(sgd), Loading(chapter)));

        Assert.IsType(channel == Channel.StateDict ? typeof(ArgumentException) : typeof(InvalidDataException), error);
        Assert.Contains("the state is of the PyTorch formulation", error.Message);
        Assert.Contains("uses the Chapter formulation", error.Message);
        Assert.True(Quadratic.Bitwise(velocities, chapterParameters.Select(chapter.MomentumBuffer).ToArray()));
        Assert.Equal(MomentumFormulation.Chapter, ((MomentumSgd.Options)chapter.ParamGroups.Cast<MomentumSgd.ParamGroup>().Single().Options).formulation);
    }

    [Theory]
    [InlineData(Channel.File)]
    [InlineData(Channel.Stream)]
    [InlineData(Channel.StateDict)]
    public void The_chapter_forms_state_is_refused_by_the_pytorch_form(Channel channel)
    {
        var parameters = Parameters([3]);
        using var chapter = new MomentumSgd(Quadratic.Copy(parameters), Lr, 0.8, formulation: MomentumFormulation.Chapter);
        using var pytorch = new MomentumSgd(Quadratic.Copy(parameters), Lr, 0.8);
        var error = Assert.ThrowsAny<Exception>(() => HandOver(channel, Saving(chapter), Loading(pytorch)));
        Assert.Contains("the state is of the Chapter formulation", error.Message);
    }

    [Fact]
    public void Sgd_refuses_the_chapter_forms_state_by_the_files_type_name_or_with_a_null_reference()
    {
        var parameters = Parameters([3]);
        using var chapter = new MomentumSgd(Quadratic.Copy(parameters), Lr, 0.8, formulation: MomentumFormulation.Chapter);
        using var sgd = optim.SGD(Quadratic.Copy(parameters), Lr, 0.8);
        var error = Assert.Throws<InvalidDataException>(() => HandOver(Channel.Stream, Saving(chapter), Loading(sgd)));
        Assert.Contains("found 'MomentumSgd'", error.Message);
        // SGD.State.LoadStateDict casts the source with `as` and dereferences the null it gets for another type.
        Assert.Throws<NullReferenceException>(() => sgd.load_state_dict(chapter.state_dict()));
    }

    /// <summary>
    /// Trains with an optimizer from <paramref name="source"/> for some steps, hands its state to one from
    /// <paramref name="target"/> (built over fresh parameters of the same values and with other hyperparameters,
    /// which the state must bring), trains on, and asserts the result is bitwise an uninterrupted run's. With
    /// <paramref name="targetHasState"/> the target has stepped before the handover, so it has buffers to replace.
    /// </summary>
    private static void AssertContinuesExactly<TSource, TTarget>(Func<Parameter[], TSource> source, Func<Parameter[], TTarget> target,
        Action<TSource, TTarget> handOver, bool targetHasState = false)
        where TSource : OptimizerHelper where TTarget : OptimizerHelper
    {
        const int before = 4, after = 5;
        var (problem, uninterrupted) = MomentumSgdTests.Problem(ScalarType.Float32);
        using var _ = problem;
        var interrupted = Quadratic.Copy(uninterrupted);
        using var reference = source(uninterrupted);
        using var first = source(interrupted);
        MomentumSgdTests.Train(problem, uninterrupted, reference, before + after);
        MomentumSgdTests.Train(problem, interrupted, first, before);

        var resumed = Quadratic.Copy(interrupted);
        using var second = target(resumed);
        if (targetHasState)
        {
            MomentumSgdTests.Train(problem, resumed, second, 2);
            using var noGrad = no_grad();
            foreach (var (p, value) in resumed.Zip(interrupted)) p.copy_(value);
        }
        handOver(first, second);
        MomentumSgdTests.Train(problem, resumed, second, after);

        Assert.True(Quadratic.Bitwise(uninterrupted, resumed));
    }

    private record Saver(Action<string> ToFile, Action<BinaryWriter> ToStream, Func<StateDictionary> ToStateDict);

    private record Loader(Action<string> FromFile, Action<BinaryReader> FromStream, Action<StateDictionary> FromStateDict);

    // A MomentumSgd saves in its own format unless SGD's is asked for by name; its load reads either.
    private static Saver Saving(SGD o) => new(o.save_state_dict, o.save_state_dict, o.state_dict);
    private static Saver Saving(MomentumSgd o, bool sgdFormat = false) =>
        sgdFormat ? new(o.SaveSgdStateDict, o.SaveSgdStateDict, o.state_dict) : new(o.save_state_dict, o.save_state_dict, o.state_dict);
    private static Loader Loading(SGD o) => new(o.load_state_dict, o.load_state_dict, o.load_state_dict);
    private static Loader Loading(MomentumSgd o) => new(o.load_state_dict, o.load_state_dict, o.load_state_dict);

    private static void HandOver(Channel channel, Saver save, Loader load)
    {
        switch (channel)
        {
            case Channel.File:
                using (var folder = new TemporaryFolder())
                {
                    save.ToFile(folder["optimizer.bin"]);
                    load.FromFile(folder["optimizer.bin"]);
                }
                break;
            case Channel.Stream:
                var stream = new MemoryStream();
                save.ToStream(new BinaryWriter(stream));
                stream.Position = 0;
                load.FromStream(new BinaryReader(stream));
                break;
            case Channel.StateDict:
                load.FromStateDict(save.ToStateDict());
                break;
        }
    }
}
