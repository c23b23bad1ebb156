// The chapter's program (section 5.6), with section 5.5.1's hand-written sgd_momentum, in C# and TorchSharp.
// Run from the repository root:  dotnet run samples/chapter.cs
// It prints each epoch's mean losses and, last, the final step's losses in full: the same numbers as
// `torchmomentum train` with its defaults (the test suite checks that).
#:project ../src/TorchMomentum/TorchMomentum.csproj
using TorchMomentum.Data;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

torch.manual_seed(1); // reproducible

// hyper parameters
const double LR = 0.01;
const int BATCH_SIZE = 32;
const int EPOCH = 12;

// generate data: y = x^2 + 0.1 * noise
var x = torch.unsqueeze(torch.linspace(-1, 1, 1000), dim: 1);
var y = x.pow(2) + 0.1 * torch.randn(x.shape);

// different optimizers: plain SGD, the built-in momentum, and the chapter's hand-written momentum
var net_SGD = new Net();
var net_Momentum = new Net();
var net_Handwritten = CopyOf(net_Momentum);
var opt_SGD = torch.optim.SGD(net_SGD.parameters(), LR);
var opt_Momentum = torch.optim.SGD(net_Momentum.parameters(), LR, momentum: 0.8);
// Initialize velocity to zero tensors with the same shape as the parameters
var vs = net_Handwritten.parameters().Select(param => torch.zeros_like(param)).ToArray();

var loss_func = MSELoss();
var losses_his = new List<double>[] { [], [], [] }; // record loss

// training
for (int epoch = 0; epoch < EPOCH; epoch++)
{
    using var epochScope = torch.NewDisposeScope();
    // The DataLoader's shuffled batches, drawn as PyTorch draws them (two draws and a randperm per epoch).
    var (batches_x, batches_y) = EpochOrder.Batches(x, y, BATCH_SIZE);
    double[] sums = [0, 0, 0];
    for (int step = 0; step < batches_x.Length; step++)
    {
        using var stepScope = torch.NewDisposeScope();
        var (b_x, b_y) = (batches_x[step], batches_y[step]);
        var steps = new Action[] { () => opt_SGD.step(), () => opt_Momentum.step(), () => sgd_momentum(net_Handwritten.parameters(), vs, LR, 0.8) };
        var nets = new[] { net_SGD, net_Momentum, net_Handwritten };
        for (int i = 0; i < nets.Length; i++)
        {
            var output = nets[i].forward(b_x);     // get output for every net
            var loss = loss_func.forward(output, b_y); // compute loss for every net
            nets[i].zero_grad();                   // clear gradients for next train
            loss.backward();                       // backpropagation, compute gradients
            steps[i]();                            // apply gradients
            losses_his[i].Add(loss.item<float>()); // loss recorder
            sums[i] += losses_his[i][^1] * b_x.shape[0];
        }
    }
    Console.WriteLine($"epoch {epoch}: mean loss sgd {sums[0] / 1000:F6}, momentum {sums[1] / 1000:F6}, handwritten {sums[2] / 1000:F6}");
}
Console.WriteLine($"final step loss: sgd {losses_his[0][^1]:R}, momentum {losses_his[1][^1]:R}, handwritten {losses_his[2][^1]:R}");

// The chapter's sgd_momentum: v[:] = gamma * v + lr * param.grad; param.data = param.data - v
static void sgd_momentum(IEnumerable<TorchSharp.Modules.Parameter> parameters, Tensor[] vs, double lr, double gamma)
{
    using var noGrad = torch.no_grad();
    foreach (var (param, v) in parameters.Zip(vs))
    {
        v.copy_(gamma * v + lr * param.grad!);
        param.sub_(v);
    }
}

// Python's copy.deepcopy(net): a net with the same weights, built without using up random numbers.
static Net CopyOf(Net net)
{
    using var rng = torch.random.get_rng_state();
    var copy = new Net();
    torch.random.set_rng_state(rng);
    copy.load_state_dict(net.state_dict());
    return copy;
}

// define neural network: predict(relu(hidden(x)))
class Net : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> hidden = Linear(1, 20), predict = Linear(20, 1);

    public Net() : base(nameof(Net)) => RegisterComponents();

    public override Tensor forward(Tensor x) => predict.forward(functional.relu(hidden.forward(x))); // linear output
}
