using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TorchMomentum.Model;

/// <summary>
/// The chapter's network (section 5.5.1, step 4): <c>predict(relu(hidden(x)))</c>, one input, one output.
/// </summary>
public sealed class Net : Module<Tensor, Tensor>
{
    private readonly Linear hidden;
    private readonly Linear predict;
    private readonly int hiddenWidth;

    /// <summary>
    /// Builds the net with PyTorch's default <c>nn.Linear</c> initialisation, drawing from torch's global
    /// generator in PyTorch's order (hidden weight, hidden bias, predict weight, predict bias).
    /// </summary>
    /// <param name="hiddenWidth">Width of the hidden layer (the chapter uses 20).</param>
    public Net(int hiddenWidth = 20) : base(nameof(Net))
    {
        this.hiddenWidth = hiddenWidth;
        hidden = Linear(1, hiddenWidth);
        predict = Linear(hiddenWidth, 1);
        RegisterComponents();
    }

    /// <summary>
    /// A net with this one's weights, on the same device and dtype. Building a Net draws its initial
    /// weights from the global generator; the copy puts the generator back afterwards, so making a copy
    /// leaves every later random number (batch order, other nets) as it was.
    /// </summary>
    public Net Copy()
    {
        var first = parameters().First();
        using var rngState = torch.random.get_rng_state();
        var copy = new Net(hiddenWidth);
        torch.random.set_rng_state(rngState);
        copy.to(first.dtype).to(first.device);
        using var noGrad = no_grad();
        foreach (var (mine, theirs) in parameters().Zip(copy.parameters()))
            theirs.copy_(mine);
        return copy;
    }

    /// <summary>A new net from the global generator, converted to <paramref name="dtype"/> and moved to <paramref name="device"/>.</summary>
    /// <remarks>Always initialised in float32 first: that is what draws the same numbers as PyTorch.</remarks>
    public static Net Build(int hiddenWidth, ScalarType dtype, Device device)
    {
        var net = new Net(hiddenWidth);
        net.to(dtype).to(device);
        return net;
    }

    /// <summary>Largest absolute difference between corresponding parameters of two nets.</summary>
    public static double MaxDifference(Net a, Net b)
    {
        using var scope = NewDisposeScope();
        return a.parameters().Zip(b.parameters())
            .Max(pair => (pair.First - pair.Second).abs().max().ToScalar().ToDouble());
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var activation = functional.relu(hidden.forward(x));
        return predict.forward(activation);
    }
}
