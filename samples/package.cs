// MomentumSgd from the TorchMomentum NuGet package, the way a project outside this repository uses it: the
// package and a TorchSharp backend, nothing else. It checks the optimizer against TorchSharp's own SGD.
// From a local build: dotnet pack src/TorchMomentum -c Release -o <folder>, then copy this file out of the
// repository next to a nuget.config that lists <folder>, and run it there: dotnet run package.cs
// (the test suite does exactly that, so the package's own Debian 12 fix is what makes TorchSharp load).
#:package TorchMomentum@*
#:package TorchSharp-cpu@0.107.0
using TorchMomentum.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

torch.manual_seed(1);
var x = torch.rand(128, 3);
var y = x.sum(1, keepdim: true).square();
var ours = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1));
var theirs = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1));
theirs.load_state_dict(ours.state_dict());

var momentumSgd = new MomentumSgd(ours.parameters(), lr: 0.05, momentum: 0.9);
var sgd = torch.optim.SGD(theirs.parameters(), 0.05, momentum: 0.9);
double first = 0, last = 0;
for (int step = 0; step < 200; step++)
{
    using var scope = torch.NewDisposeScope();
    foreach (var (net, optimizer) in new (nn.Module<Tensor, Tensor>, optim.Optimizer)[] { (ours, momentumSgd), (theirs, sgd) })
    {
        optimizer.zero_grad();
        var loss = nn.functional.mse_loss(net.forward(x), y);
        loss.backward();
        optimizer.step();
        if (net == ours) (first, last) = (step == 0 ? loss.item<float>() : first, loss.item<float>());
    }
}
bool same = ours.parameters().Zip(theirs.parameters()).All(p => p.First.allclose(p.Second, rtol: 0, atol: 0));
Console.WriteLine($"MomentumSgd {typeof(MomentumSgd).Assembly.GetName().Version?.ToString(3)} from the package: loss {first:F4} -> {last:F6}");
Console.WriteLine($"equal to torch.optim.SGD bit for bit: {same}");
