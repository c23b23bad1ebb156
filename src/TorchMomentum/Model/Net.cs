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
    public Net(int hiddenWidth = 20) : this(hiddenWidth, Linear(1, hiddenWidth), Linear(hiddenWidth, 1))
    {
    }

    private Net(int hiddenWidth, Linear hidden, Linear predict) : base(nameof(Net))
    {
        this.hiddenWidth = hiddenWidth;
        this.hidden = hidden;
        this.predict = predict;
        RegisterComponents();
    }

    /// <summary>
    /// The net's number of parameters, 3 hidden + 1 (61 for the chapter's 20): hidden.weight and hidden.bias, a
    /// number per hidden unit each, predict.weight another, and predict.bias. Every layout of the net's numbers (the
    /// tensors, a sweep's cells, the Hessian) takes it from here. Hidden is at most
    /// <see cref="Training.ExperimentSettings.MaxHidden"/>, so it fits an int.
    /// </summary>
    public static int ParameterCount(int hidden) => 3 * hidden + 1;

    /// <summary>The name and shape of each parameter of a net of width <paramref name="hiddenWidth"/>, in <c>named_parameters()</c> order.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> ParameterShapes(int hiddenWidth) =>
    [
        ("hidden.weight", [hiddenWidth, 1]),
        ("hidden.bias", [hiddenWidth]),
        ("predict.weight", [1, hiddenWidth]),
        ("predict.bias", [1]),
    ];

    /// <summary>
    /// A net holding copies of <paramref name="weights"/> (by <see cref="ParameterShapes"/> name; shapes must
    /// match), drawing nothing from any generator: how a checkpoint is restored.
    /// </summary>
    public static Net FromWeights(int hiddenWidth, IReadOnlyDictionary<string, Tensor> weights)
    {
        Parameter Copy(string name) => new(weights[name].detach().clone());
        return new Net(hiddenWidth,
            Linear(Copy("hidden.weight"), Copy("hidden.bias")),
            Linear(Copy("predict.weight"), Copy("predict.bias")));
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

    /// <summary>The forward, <see cref="NetMath.Output(Tensor, Tensor, Tensor, Tensor, Tensor)"/> with this net's weights.</summary>
    public override Tensor forward(Tensor x) => NetMath.Output(x, hidden.weight!, hidden.bias!, predict.weight!, predict.bias!);
}
