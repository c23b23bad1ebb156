using TorchMomentum.Data;
using TorchMomentum.Model;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

/// <summary>The seeded data, weights and batch order equal what PyTorch 1.13 draws for the chapter's program.</summary>
public class ChapterDataTests
{
    [Fact]
    public void Data_equals_pytorch_for_seed_1()
    {
        manual_seed(1);
        var (x, y) = ChapterData.Generate(1000, CPU, ScalarType.Float32);
        using var _x = x;
        using var _y = y;
        Assert.Equal(new long[] { 1000, 1 }, x.shape);
        Assert.Equal(-1f, x[0, 0].item<float>());
        Assert.Equal(1f, x[999, 0].item<float>());
        // PyTorch: y[:3, 0] after torch.manual_seed(1)
        Assert.Equal(new[] { 0.8474404215812683f, 0.9209768176078796f, 0.9266099333763123f }, y[..3, 0].data<float>().ToArray());
    }

    [Fact]
    public void Initial_weights_equal_pytorch_for_seed_1()
    {
        manual_seed(1);
        var (x, y) = ChapterData.Generate(1000, CPU, ScalarType.Float32);
        x.Dispose();
        y.Dispose();
        using var sgdNet = new Net();
        using var momentumNet = new Net();
        var p = sgdNet.parameters().ToArray();
        // PyTorch: hidden.weight[:3, 0], hidden.bias[:2], predict.weight[0, :2], predict.bias of net_SGD
        Assert.Equal(new[] { 0.3607839345932007f, -0.8668090105056763f, 0.062076687812805176f }, p[0][..3, 0].data<float>().ToArray());
        Assert.Equal(new[] { -0.7934863567352295f, 0.19939661026000977f }, p[1][..2].data<float>().ToArray());
        Assert.Equal(new[] { 0.06425832957029343f, -0.13777101039886475f }, p[2][0, ..2].data<float>().ToArray());
        Assert.Equal(-0.06130993738770485f, p[3][0].item<float>());
        var q = momentumNet.parameters().ToArray();
        Assert.Equal(new[] { 0.9708588123321533f, -0.26088500022888184f }, q[0][..2, 0].data<float>().ToArray());
        Assert.Equal(0.12117365002632141f, q[3][0].item<float>());
    }

    [Fact]
    public void Epochs_right_after_seeding_are_ordered_like_pytorchs_DataLoader()
    {
        manual_seed(1);
        using var first = EpochOrder.Next(1000);
        using var second = EpochOrder.Next(1000);
        // PyTorch: DataLoader(shuffle=True) iterated twice right after torch.manual_seed(1)
        Assert.Equal(new long[] { 894, 11, 394, 127, 932, 102, 315, 713 }, first[..8].data<long>().ToArray());
        Assert.Equal(new long[] { 224, 611, 32, 285, 850, 663, 140, 197 }, second[..8].data<long>().ToArray());
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)i), first.sort().Values.data<long>().ToArray());
    }

    [Fact]
    public void Epochs_after_data_and_two_nets_are_ordered_like_the_chapters_program()
    {
        manual_seed(1);
        var (x, y) = ChapterData.Generate(1000, CPU, ScalarType.Float32);
        x.Dispose();
        y.Dispose();
        new Net().Dispose();
        new Net().Dispose();
        using var first = EpochOrder.Next(1000);
        using var second = EpochOrder.Next(1000);
        // PyTorch: the first batch of each of the first two epochs of the chapter's section 5.6 program
        Assert.Equal(new long[] { 310, 122, 499, 579, 779, 490, 476, 864 }, first[..8].data<long>().ToArray());
        Assert.Equal(new long[] { 83, 831, 319, 925, 355, 331, 453, 575 }, second[..8].data<long>().ToArray());
    }

    [Fact]
    public void DrawInt64_is_pytorchs_random_on_int64()
    {
        manual_seed(1);
        Assert.Equal(7692698082559361259L, EpochOrder.DrawInt64());
    }

    [Fact]
    public void Net_has_the_chapters_61_parameters()
    {
        using var net = new Net();
        Assert.Equal(61, net.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Copy_has_the_same_weights_and_leaves_the_generator_alone()
    {
        manual_seed(5);
        using var net = new Net();
        using var before = get_rng_state();
        using var copy = net.Copy();
        using var after = get_rng_state();
        Assert.True(before.eq(after).all().item<bool>());
        foreach (var (a, b) in net.parameters().Zip(copy.parameters()))
            Assert.True(a.eq(b).all().item<bool>());
        // Weights of its own: training the copy leaves the original as it was. (Distinct handles would not show
        // it: every Parameter object has its own handle, even two over one storage.)
        var original = net.parameters().Select(p => p.detach().clone()).ToArray();
        using (no_grad())
            foreach (var p in copy.parameters()) p.add_(1);
        Assert.True(Quadratic.Bitwise(original, net.parameters().ToArray()));
    }
}
