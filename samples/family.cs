// Momentum's family on a model of your own: QHM with an exponential average of its weights (judge the average),
// and schedule-free SGD (train at y, evaluate at x). Run: dotnet run samples/family.cs
#:project ../src/TorchMomentum/TorchMomentum.csproj
using TorchMomentum.Optimizers;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using TorchSharp.Modules;

torch.manual_seed(0);
var x = torch.rand(256, 4) * 2 - 1;                      // synthetic data: 4 features,
var y = (x * torch.tensor(new float[] { 1, -2, 0.5f, 3 })).sum(1, keepdim: true).sin(); // a nonlinear target

Sequential NewModel()
{
    torch.manual_seed(1);                                // the same initial weights for both optimizers
    return Sequential(Linear(4, 32), ReLU(), Linear(32, 32), ReLU(), Linear(32, 1));
}

double Loss(Sequential model)
{
    using var noGrad = torch.no_grad();
    return functional.mse_loss(model.forward(x), y).item<float>();
}

void Train(Sequential model, optim.Optimizer optimizer, int steps, Action? afterStep = null)
{
    for (int step = 0; step < steps; step++)
    {
        using var scope = torch.NewDisposeScope();
        optimizer.zero_grad();
        functional.mse_loss(model.forward(x), y).backward();
        optimizer.step();
        afterStep?.Invoke();
    }
}

// QHM (Ma and Yarats 2019): a mix of a plain SGD step and a momentum step, nu of the latter. Beside it, an
// exponential average of the weights, as torch.optim.swa_utils.AveragedModel keeps one: judge the average.
var model = NewModel();
var average = new AveragedModel(model, NewModel(), decay: 0.95);
using (var qhm = new Qhm(model.parameters(), lr: 0.1, beta: 0.9, nu: 0.7))
    Train(model, qhm, 300, () => average.UpdateParameters(model));
Console.WriteLine($"QHM after 300 steps: loss {Loss(model):F6} at its weights, {Loss((Sequential)average.Module):F6} at their average");

// Schedule-free SGD (Defazio et al. 2024): no schedule to tune; it trains at y and is evaluated at x, an average.
var free = NewModel();
using var scheduleFree = new ScheduleFreeSgd(free.parameters(), lr: 0.5, momentum: 0.9, warmup_steps: 20);
Train(free, scheduleFree, 300);
double atY = Loss(free);
scheduleFree.Eval();                                     // x into the parameters: evaluate (or save) now
double atX = Loss(free);
scheduleFree.Train();                                    // y back before the next step
Console.WriteLine($"schedule-free SGD after 300 steps: loss {atX:F6} at x (evaluate here), {atY:F6} at y (where it trains)");
Console.WriteLine($"evaluating at x and back leaves the training weights as they were: {Loss(free) == atY}");
