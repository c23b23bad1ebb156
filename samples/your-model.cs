// MomentumSgd on a model of your own: parameter groups with their own learning rates, a StepLR schedule, and
// a checkpoint of model and optimizer that continues the run exactly. Run: dotnet run samples/your-model.cs
#:project ../src/TorchMomentum/TorchMomentum.csproj
using TorchMomentum.Optimizers;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using TorchSharp.Modules;

torch.manual_seed(0);
var x = torch.rand(256, 4) * 2 - 1;                      // synthetic data: 4 features,
var y = (x * torch.tensor(new float[] { 1, -2, 0.5f, 3 })).sum(1, keepdim: true).sin(); // a nonlinear target

Sequential NewModel() => Sequential(Linear(4, 32), ReLU(), Linear(32, 32), ReLU(), Linear(32, 1));

// The body learns at lr 0.05, the head at lr 0.01; both with momentum 0.9, Nesterov for the head.
MomentumSgd NewOptimizer(Sequential model) => new MomentumSgd(
    [
        new MomentumSgd.ParamGroup(model.children().Take(4).SelectMany(m => m.parameters()), lr: 0.05),
        new MomentumSgd.ParamGroup(model.children().Last().parameters(), lr: 0.01, nesterov: true),
    ],
    lr: 0.05, momentum: 0.9);

double Train(Sequential model, MomentumSgd optimizer, optim.lr_scheduler.LRScheduler schedule, int steps)
{
    double loss = 0;
    for (int step = 0; step < steps; step++)
    {
        using var scope = torch.NewDisposeScope();
        optimizer.zero_grad();
        var l = functional.mse_loss(model.forward(x), y);
        l.backward();
        optimizer.step();
        schedule.step();                                  // halves both groups' lr every 100 steps
        loss = l.item<float>();
    }
    return loss;
}

var model = NewModel();
var optimizer = NewOptimizer(model);
var schedule = optim.lr_scheduler.StepLR(optimizer, step_size: 100, gamma: 0.5);
Console.WriteLine($"loss after 150 steps: {Train(model, optimizer, schedule, 150):F6}");

// Checkpoint: the weights and the optimizer's state (momentum buffers, lrs) in TorchSharp's formats.
string folder = Directory.CreateTempSubdirectory("your-model-").FullName;
model.save(Path.Combine(folder, "model.bin"));
optimizer.save_state_dict(Path.Combine(folder, "optimizer.bin"));
double uninterrupted = Train(model, optimizer, schedule, 150);

// A fresh model and optimizer, restored from the checkpoint, continue to the very same loss.
var restored = NewModel();
restored.load(Path.Combine(folder, "model.bin"));
var restoredOptimizer = NewOptimizer(restored);
restoredOptimizer.load_state_dict(Path.Combine(folder, "optimizer.bin"));
// A scheduler's constructor takes its first step, as PyTorch's does: 149 is the step before the checkpoint's.
var restoredSchedule = optim.lr_scheduler.StepLR(restoredOptimizer, step_size: 100, gamma: 0.5, last_epoch: 149);
double resumed = Train(restored, restoredOptimizer, restoredSchedule, 150);
Directory.Delete(folder, recursive: true);

Console.WriteLine($"loss after 300 steps: {uninterrupted:F6}, resumed from the checkpoint at 150: {resumed:F6}");
Console.WriteLine($"the resumed run equals the uninterrupted one: {resumed == uninterrupted}");
