using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TorchMomentum.Sweeps;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// <c>GET /api/scaling</c> (<c>engine=fused|torch</c> as <c>/api/sweep</c>): a small batch-size study (<c>torchmomentum scaling</c>, one study, equal menus, targets as
/// excesses over each seed's noise floor) trained live on one core, streamed as server-sent events: <c>event:
/// progress</c> <c>{"cell_steps", "total"}</c>; at the end <c>event: study</c> <c>{"batch_sizes", "targets",
/// "label_noise", "settings", "tune_seeds", "eval_seeds", "steps", "rows", "critical", "model"}</c>: <c>steps[t][id]</c>
/// each cell's sustained steps to target t (null: never), cells in the grid's id order (seed, batch size, setting);
/// <c>rows</c> the held-out results of the sustained measure as <see cref="ScalingStudy"/> reads them, momentum's with
/// the speed-up, its 95% interval and verdict; <c>critical[t]</c> each family's critical batch size; <c>model</c> the
/// noisy quadratic model's best steps per (target, family, batch size) (<see cref="ScalingStudy.QuadraticModel"/>);
/// then <c>event: done</c> <c>{"seconds"}</c>. Closing the connection stops the training within a step.
/// </summary>
public static class ScalingApi
{
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(50);

    /// <summary>Answers one request, holding a slot of <paramref name="slots"/> while it trains.</summary>
    public static async Task Handle(HttpContext context, TrainingSlots slots, CancellationToken stopping)
    {
        var q = new QueryValues(context.Request.Query);
        if (Grid(q) is not { } grid)
        {
            await q.BadRequest().ExecuteAsync(context);
            return;
        }
        await slots.Hold(context, () => ServerSentEvents.Stream(context, stopping, buffered: 4, (send, cancel) => Train(grid, send, cancel)));
    }

    /// <summary>The study a request asks for, or null when <paramref name="q"/> has found a problem with it.</summary>
    public static SweepGrid? Grid(QueryValues q)
    {
        var study = ScalingStudy.DefaultGrid;
        var grid = study with
        {
            BatchSizes = [.. q.Wholes(ApiLimits.Scaling.BatchSizes, ApiLimits.Scaling.DefaultBatchSizes).Select(b => (int)b)],
            LrCount = q.Count(ApiLimits.Scaling.LrCount),
            Seeds = q.Wholes(ApiLimits.Scaling.TuneSeeds, [1, 2]),
            EvalSeeds = q.Wholes(ApiLimits.Scaling.EvalSeeds, [101, 102, 103, 104]),
            Studies = 1,
            Steps = q.Count(ApiLimits.Scaling.Steps),
            Engine = q.Engine(),
            Training = study.Training with { LabelNoise = q.Number(ApiLimits.Scaling.LabelNoise) },
        };
        if (q.Error is not null) return null;
        long perBatch = (long)grid.SettingCount * grid.CellSeeds.Count;
        double sampleSteps = grid.CellBatchSizes.Sum(b => (double)perBatch * grid.StepBudget(b) * b);
        if (grid.CellCount > ApiLimits.Scaling.MaxCells)
            q.Refuse($"2 x lr-count x batch sizes x seeds (tuning and held-out) must be at most {ApiLimits.Scaling.MaxCells} cells (got {grid.CellCount})");
        else if (sampleSteps > ApiLimits.Scaling.MaxSampleSteps)
            q.Refuse($"cells x steps x batch size, the samples the study would see, must be at most {ApiLimits.Scaling.MaxSampleSteps:0e0} (got {sampleSteps:0.##e0}): fewer steps, cells or large batches");
        else if (grid.Problem() is { } problem) q.Refuse(problem.ForApi);
        return q.Error is null ? grid : null;
    }

    private static void Train(SweepGrid grid, Action<string> send, CancellationToken cancel)
    {
        long total = grid.CellSteps(Shard.Whole), done = 0;
        var clock = Stopwatch.StartNew();
        // At once, before the first cell trains: the page shows the study's size within a frame of its request.
        send(Progress(0, total));
        TimeSpan progressSent = TimeSpan.Zero;
        var results = SweepTraining.Train(grid, Shard.Whole, CPU, threads: 1, onSteps: n =>
        {
            done += n;
            if (clock.Elapsed - progressSent < ProgressEvery) return;
            progressSent = clock.Elapsed;
            send(Progress(done, total));
        }, cancel: cancel);
        send(Progress(total, total));
        // A held-out study needs every cell's whole curve: it is read once, at the end, with the noisy quadratic model.
        var study = new ScalingStudy(grid, results);
        send(Study(grid, results, study, study.QuadraticModel(grid.Training.LabelNoise)?.Predicted));
        send(ServerSentEvents.Event("done", JsonSerializer.Serialize(new { seconds = clock.Elapsed.TotalSeconds })));
    }

    private static string Progress(long done, long total) => ServerSentEvents.Event("progress", $"{{\"cell_steps\":{done},\"total\":{total}}}");

    private static string Study(SweepGrid grid, IReadOnlyList<CellResult> results, ScalingStudy study, IReadOnlyList<ModelPrediction>? model)
    {
        static double? F(double v) => double.IsFinite(v) ? v : null;
        double noise = grid.Training.LabelNoise;
        return ServerSentEvents.Event("study", JsonSerializer.Serialize(new
        {
            batch_sizes = grid.CellBatchSizes,
            targets = grid.TargetNames,
            label_noise = noise,
            settings = grid.Settings().Select(s => new { lr = s.Lr, momentum = s.Momentum }),
            tune_seeds = grid.Seeds,
            eval_seeds = grid.EvalSeeds,
            steps = grid.TargetNames.Select((_, t) => results.Select(r => r.SustainedSteps[t])),
            rows = study.Rows.Where(r => r.Measure == Measure.Sustained).Select(r => new
            {
                target = r.Target, family = Output.ScalingOutputs.Name(r.Family), batch_size = r.BatchSize, steps = F(r.Steps), lr = F(r.Lr), momentum = F(r.Momentum),
                speed_up = F(r.SpeedUp), low = F(r.SpeedUpLow), high = F(r.SpeedUpHigh), verdict = r.Verdict is { } v ? Output.ScalingOutputs.Name(v) : null,
            }),
            critical = grid.TargetNames.Select(t => new { sgd = study.CriticalBatchSize(noise, Family.PlainSgd, t), momentum = study.CriticalBatchSize(noise, Family.Momentum, t) }),
            model = model?.Select(b => new
            {
                target = b.Target, family = Output.ScalingOutputs.Name(b.Family), batch_size = b.BatchSize, steps = F(b.Steps), lr = F(b.Lr), momentum = F(b.Momentum),
            }),
        }));
    }
}
