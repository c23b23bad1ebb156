using TorchMomentum.Model;
using TorchMomentum.Sweeps;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

/// <summary>The stacked net against the chapter's net and against autograd.</summary>
public class StackedNetTests
{
    private static (StackedNet Net, Tensor X, Tensor Y) Stacked(int cells, int hidden = 20, int batch = 13)
    {
        manual_seed(3);
        using var net = Net.Build(hidden, ScalarType.Float64, CPU);
        var stacked = new StackedNet(net, cells);
        using (no_grad())
            foreach (var p in stacked.parameters()) p.add_(randn_like(p)); // cells of their own, some units dead for some samples
        var x = rand(batch, 1, dtype: ScalarType.Float64) * 2 - 1;
        return (stacked, x, x.square() + 0.1 * randn_like(x));
    }

    [Fact]
    public void The_hand_worked_gradient_is_autograds()
    {
        var (net, x, y) = Stacked(cells: 5);
        using var _ = net;
        using var loss = net.LossAndGradient(x, y, out var gradient);
        using (gradient)
        using (var reference = net.forward(x).sub(y.view(1, -1)).square().mean([1])) // the chapter's MSE, one per cell, through autograd
        {
            reference.sum().backward();
            Assert.True(allclose(loss, reference, rtol: 1e-14, atol: 0), "the losses differ");
            long offset = 0;
            foreach (var p in net.parameters())
            {
                using var part = gradient.narrow(0, offset, p.numel()).view(p.shape);
                using var grad = p.grad!;
                double worst = (part - grad).abs().max().item<double>();
                Assert.True(worst <= 1e-14 * Math.Max(1, grad.abs().max().item<double>()), $"{p.shape.Length}-d parameter: off by {worst}");
                offset += p.numel();
            }
            Assert.Equal(offset, gradient.numel());
        }
    }

    [Fact]
    public void Each_cell_predicts_what_its_own_net_predicts()
    {
        var (net, x, _) = Stacked(cells: 3, hidden: 7);
        using var _ = net;
        using var stackedOutput = net.forward(x);
        var weights = net.parameters().ToArray();
        for (int c = 0; c < 3; c++)
        {
            var names = Net.ParameterShapes(7).Select(p => p.Name).ToArray();
            using var one = Net.FromWeights(7, names.Select((name, i) => (name, weights[i][c])).ToDictionary(p => p.name, p => p.Item2));
            using var expected = one.forward(x).view(-1);
            Assert.True(allclose(stackedOutput[c], expected, rtol: 1e-14, atol: 1e-15), $"cell {c}");
        }
    }
}
