using TorchMomentum.Model;
using TorchMomentum.Optimizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TorchMomentum.Sweeps;

/// <summary>
/// The chapter's <see cref="Net"/>, <c>predict(relu(hidden(x)))</c>, once per cell: every parameter stacked over
/// cells, so one forward and one backward train them all on a shared mini-batch. Cell c's slices are the
/// parameters of its own net, in <see cref="Net.ParameterShapes"/>: hidden.weight [cells, hidden, 1], hidden.bias
/// [cells, hidden], predict.weight [cells, 1, hidden], predict.bias [cells, 1].
/// </summary>
/// <remarks>
/// Activations are laid out [cells, hidden, batch]. Every operation is elementwise or sums along one cell's own
/// rows, and the net makes each product in an operation of its own (no fused multiply-add), so a cell's numbers
/// depend on its own weights and batch alone, never on which or how many cells share the stack: a sweep cut
/// into shards computes exactly what it computes whole (SweepTrainingTests.A_cells_numbers_do_not_depend_on_which_cells_share_its_stack holds it to that, bit for bit).
/// </remarks>
public sealed class StackedNet : Module<Tensor, Tensor>
{
    private readonly Parameter hidden_weight, hidden_bias, predict_weight, predict_bias;

    /// <summary><paramref name="cells"/> copies of <paramref name="net"/>'s weights, stacked.</summary>
    public StackedNet(Net net, int cells) : base(nameof(StackedNet))
    {
        Cells = cells;
        var weights = net.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Parameter Stack(string name)
        {
            using var noGrad = no_grad();
            var w = weights[name];
            using var one = w.unsqueeze(0);
            return new Parameter(one.expand([cells, .. w.shape]).clone());
        }
        hidden_weight = Stack("hidden.weight");
        hidden_bias = Stack("hidden.bias");
        predict_weight = Stack("predict.weight");
        predict_bias = Stack("predict.bias");
        RegisterComponents();
        // LossAndGradient lays the gradient out in this order; a Dictionary keyed by parameter cannot be used to
        // match them: a tensor's equality compares values, and a diverged cell's NaN equals nothing.
        Parameter[] order = [hidden_weight, hidden_bias, predict_weight, predict_bias];
        if (!parameters().Zip(order).All(p => ReferenceEquals(p.First, p.Second)))
            throw new InvalidOperationException("StackedNet's parameters are not registered in the order its gradient is laid out");
    }

    /// <summary>How many nets are stacked.</summary>
    public int Cells { get; }

    /// <summary>Every cell's prediction for a batch: x [batch, 1] shared by all cells, output [cells, batch].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Output(Hidden(x.view(1, 1, -1))).MoveToOuterDisposeScope();
    }

    /// <summary>The hidden layer, h = relu(w1 x + b1), for a batch laid out as a row [1, 1, batch]: [cells, hidden, batch].</summary>
    private Tensor Hidden(Tensor row) => (hidden_weight * row).add_(hidden_bias.unsqueeze(2), Scalars.One).relu_();

    /// <summary>The output, out = w2 . h + b2, one product a pass and then the sum over hidden units: [cells, batch].</summary>
    private Tensor Output(Tensor h) => (h * predict_weight.view(Cells, -1, 1)).sum(1).add_(predict_bias, Scalars.One);

    /// <summary>
    /// Every cell's loss and the gradient of it, worked out by hand: the chain rule through the chapter's net, as
    /// tensor operations without autograd's bookkeeping and with as few passes over the [cells, hidden, batch]
    /// activations as the algebra allows, since those passes are the sweep's whole cost (StackedNetTests holds the
    /// result to autograd's gradient). Per cell, with z = w1 x + b1, the relu's mask m = [z > 0] (its derivative, 0
    /// at z = 0 as in PyTorch), h = m z, out = w2 . h + b2, e = out - y and loss = mean over the B samples of e^2:
    /// <code>
    ///   dloss/dout  = r = 2 e / B
    ///   S1_j = sum_b m_j r,   S2_j = sum_b m_j r x
    ///   dloss/db1_j = w2_j S1_j,            dloss/dw1_j = w2_j S2_j
    ///   dloss/dw2_j = sum_b r h_j = w1_j S2_j + b1_j S1_j     (h = m (w1 x + b1): no pass of its own)
    ///   dloss/db2   = sum_b r
    /// </code>
    /// Five passes make the forward (w1 x, + b1, relu, times w2, the sum over hidden units) and five the backward
    /// (the mask, times r, a sum, times x, a sum), each in place where it can be.
    /// </summary>
    /// <param name="x">Inputs [batch, 1], shared by every cell.</param>
    /// <param name="y">Targets [batch, 1].</param>
    /// <param name="gradient">Every parameter's gradient, laid end to end in <c>parameters()</c> order, as a flat buffer lays them.</param>
    /// <returns>Every cell's loss, [cells].</returns>
    public Tensor LossAndGradient(Tensor x, Tensor y, out Tensor gradient)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var row = x.view(1, 1, -1);                                                 // [1, 1, batch]
        var w1 = hidden_weight.view(Cells, -1);                                     // [cells, hidden]
        var b1 = hidden_bias;                                                       // [cells, hidden]
        var w2 = predict_weight.view(Cells, -1);                                    // [cells, hidden]
        var h = Hidden(row);                                                        // [cells, hidden, batch]
        var error = Output(h).sub_(y.view(1, -1));                                  // [cells, batch]
        var loss = error.square().mean([1]);
        var r = error.mul_(2.0 / x.shape[0]);                                       // [cells, batch]
        var masked = h.sign_().mul_(r.unsqueeze(1));                                // m r, in h's place: h is not needed again
        var s1 = masked.sum(2);
        var s2 = masked.mul_(row).sum(2);
        // In parameters() order (checked when the net is built), as a flat buffer lays them out.
        Tensor[] parts = [(w2 * s2).view(-1), (w2 * s1).view(-1), (w1 * s2).add_(b1 * s1, Scalars.One).view(-1), r.sum(1)];
        gradient = cat(parts, 0).MoveToOuterDisposeScope();
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A per-cell value (a [cells] tensor) spread over every element of the stacked parameters, laid end to end in
    /// <c>parameters()</c> order as a flat buffer lays them: how each cell's lr and momentum meet its weights in one
    /// update of the whole stack.
    /// </summary>
    public Tensor PerElement(Tensor perCell)
    {
        using var scope = NewDisposeScope();
        using var column = perCell.view(Cells, 1);
        var parts = parameters().Select(p => column.expand(Cells, p.numel() / Cells).reshape(-1)).ToArray();
        return cat(parts, 0).MoveToOuterDisposeScope();
    }
}
