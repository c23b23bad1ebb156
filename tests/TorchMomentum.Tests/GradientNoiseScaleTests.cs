using TorchMomentum.Model;
using TorchMomentum.Sweeps;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

/// <summary>B_noise = tr(Sigma) / |G|^2 from the hand-written per-example gradients equals the same from autograd's.</summary>
public sealed class GradientNoiseScaleTests
{
    [Theory]
    [InlineData(7, 40, 5)]
    [InlineData(20, 100, 6)]
    public void The_noise_scale_is_that_of_autograds_per_sample_gradients(int hidden, int samples, int seed)
    {
        var random = new Random(seed);
        double[] Draw(int count, double scale) => Enumerable.Range(0, count).Select(_ => (random.NextDouble() * 2 - 1) * scale).ToArray();
        double[] w1 = Draw(hidden, 2), b1 = Draw(hidden, 1), w2 = Draw(hidden, 1), x = Draw(samples, 1);
        double b2 = random.NextDouble() - 0.5;
        double[] y = x.Select(v => v * v + 0.1 * (random.NextDouble() - 0.5)).ToArray();

        var weights = new Dictionary<string, Tensor>
        {
            ["hidden.weight"] = tensor(w1, [hidden, 1]), ["hidden.bias"] = tensor(b1, [hidden]),
            ["predict.weight"] = tensor(w2, [1, hidden]), ["predict.bias"] = tensor(new[] { b2 }, [1]),
        };
        using var net = Net.FromWeights(hidden, weights);
        var gradients = new double[samples][];
        for (int i = 0; i < samples; i++)
        {
            using var scope = NewDisposeScope();
            net.zero_grad();
            (net.forward(tensor(new[] { x[i] }, [1, 1])) - y[i]).pow(2).sum().backward();
            gradients[i] = [.. net.parameters().SelectMany(p => p.grad!.data<double>().ToArray())];
        }
        int p = gradients[0].Length;
        var mean = Enumerable.Range(0, p).Select(k => gradients.Average(g => g[k])).ToArray();
        double trace = gradients.Sum(g => g.Select((v, k) => (v - mean[k]) * (v - mean[k])).Sum()) / (samples - 1);
        double expected = trace / mean.Sum(m => m * m);

        double actual = GradientNoiseScale.Of(new NetWeights(w1, b1, w2, b2), x, y);
        Assert.InRange(Math.Abs(actual - expected), 0, 1e-9 * expected);
        foreach (var t in weights.Values) t.Dispose();
    }
}
