using TorchMomentum.Optimizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

/// <summary>
/// MomentumSgd as a drop-in for TorchSharp's SGD: what SGD accepts (sparse gradients, its param groups, its
/// saved state) MomentumSgd accepts too, and what PyTorch refuses (a parameter in two groups) it refuses.
/// </summary>
public class MomentumSgdDropInTests
{
    [Fact]
    public void A_parameter_in_two_groups_is_refused_as_pytorch_refuses_it()
    {
        var p = Quadratic.Parameters([[3], [2]], ScalarType.Float32, new Generator(1));
        var error = Assert.Throws<ArgumentException>(() =>
            new MomentumSgd([new MomentumSgd.ParamGroup(p), new MomentumSgd.ParamGroup([p[1]])], lr: 0.1, momentum: 0.9));
        Assert.Contains("Some parameters appear in more than one parameter group", error.Message);
    }

    [Fact]
    public void Adding_a_group_with_a_parameter_already_optimized_is_refused_and_changes_nothing()
    {
        var p = Quadratic.Parameters([[3], [2]], ScalarType.Float32, new Generator(1));
        using var optimizer = new MomentumSgd([p[0]], lr: 0.1, momentum: 0.9);
        var error = Assert.Throws<ArgumentException>(() => optimizer.add_param_group(new MomentumSgd.ParamGroup(p)));
        Assert.Contains("Some parameters appear in more than one parameter group", error.Message);
        Assert.Single(optimizer.ParamGroups);
    }

    [Fact]
    public void A_parameter_listed_twice_in_one_group_is_refused_rather_than_stepped_twice()
    {
        var p = Quadratic.Parameters([[3]], ScalarType.Float32, new Generator(1));
        // A second handle to the same tensor (Tensor.to a device it is already on returns one) is the same parameter.
        var sameTensor = new Parameter(p[0].to(p[0].device));
        foreach (var twice in new[] { new[] { p[0], p[0] }, new[] { p[0], sameTensor } })
        {
            var error = Assert.Throws<ArgumentException>(() => new MomentumSgd(twice, lr: 0.1));
            Assert.Contains("A parameter appears more than once in one parameter group", error.Message);
        }
    }
}
