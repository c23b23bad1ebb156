// Section 5.6's race with its commented-out lines in: net_SGD, net_Momentum, net_RMSprop and net_Adam, plus the
// control the chapter leaves out: plain SGD at momentum's effective learning rate LR / (1 - 0.8).
// Run from the repository root:  dotnet run samples/race.cs
// It prints each epoch's mean losses and the final step's losses in full: the same numbers as
// `torchmomentum train --contestants sgd,momentum,rmsprop,adam,sgd-effective` (the test suite checks that).
#:project ../src/TorchMomentum/TorchMomentum.csproj
using TorchMomentum.Data;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

torch.manual_seed(1); // reproducible

const double LR = 0.01;
const int BATCH_SIZE = 32;
const int EPOCH = 12;

var x = torch.unsqueeze(torch.linspace(-1, 1, 1000), dim: 1);
var y = x.pow(2) + 0.1 * torch.randn(x.shape);

// different nets, drawn in the chapter's order: every Net() draws its weights, and so shifts the batches after it
var net_SGD = new Net();
var net_Momentum = new Net();
var net_RMSprop = new Net();
var net_Adam = new Net();
var net_Effective = CopyOf(net_Momentum); // starts where momentum starts, so only the optimizer differs
var nets = new[] { net_SGD, net_Momentum, net_RMSprop, net_Adam, net_Effective };
string[] names = ["sgd", "momentum", "rmsprop", "adam", "sgd-effective"];

var opt_SGD = torch.optim.SGD(net_SGD.parameters(), LR);
var opt_Momentum = torch.optim.SGD(net_Momentum.parameters(), LR, momentum: 0.8);
var opt_RMSprop = torch.optim.RMSProp(net_RMSprop.parameters(), LR, alpha: 0.9);
var opt_Adam = torch.optim.Adam(net_Adam.parameters(), LR, beta1: 0.9, beta2: 0.99);
var opt_Effective = torch.optim.SGD(net_Effective.parameters(), LR / (1 - 0.8)); // momentum's step size, no momentum
var optimizers = new torch.optim.Optimizer[] { opt_SGD, opt_Momentum, opt_RMSprop, opt_Adam, opt_Effective };

var loss_func = MSELoss();
var last = new double[nets.Length];
for (int epoch = 0; epoch < EPOCH; epoch++)
{
    using var epochScope = torch.NewDisposeScope();
    var (batches_x, batches_y) = EpochOrder.Batches(x, y, BATCH_SIZE); // the DataLoader's shuffle, as PyTorch draws it
    var sums = new double[nets.Length];
    for (int step = 0; step < batches_x.Length; step++)
    {
        using var stepScope = torch.NewDisposeScope();
        for (int i = 0; i < nets.Length; i++)
        {
            var loss = loss_func.forward(nets[i].forward(batches_x[step]), batches_y[step]);
            optimizers[i].zero_grad();
            loss.backward();
            optimizers[i].step();
            last[i] = loss.item<float>();
            sums[i] += last[i] * batches_x[step].shape[0];
        }
    }
    Console.WriteLine($"epoch {epoch}: mean loss " + string.Join(", ", names.Select((n, i) => $"{n} {sums[i] / 1000:F6}")));
}
Console.WriteLine("final step loss: " + string.Join(", ", names.Select((n, i) => $"{n} {last[i]:R}")));

// Python's copy.deepcopy(net): a net with the same weights, built without using up random numbers.
static Net CopyOf(Net net)
{
    using var rng = torch.random.get_rng_state();
    var copy = new Net();
    torch.random.set_rng_state(rng);
    copy.load_state_dict(net.state_dict());
    return copy;
}

// the chapter's net: predict(relu(hidden(x)))
class Net : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> hidden = Linear(1, 20), predict = Linear(20, 1);

    public Net() : base(nameof(Net)) => RegisterComponents();

    public override Tensor forward(Tensor x) => predict.forward(functional.relu(hidden.forward(x)));
}
