using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TorchMomentum.Sweeps;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// <c>GET /api/scaling</c>: a small batch-size study (<c>torchmomentum scaling</c>) trained live on one core, streamed
/// as server-sent events: <c>event: progress</c> <c>{"cell_steps", "total"}</c>; every quarter second or so and at the
/// end <c>event: study</c> <c>{"batch_sizes", "targets", "lr", "momentum", "seeds", "steps", "best", "speed_up",
/// "critical"}</c>: <c>steps[t][id]</c> each cell's steps to target t so far (null: not yet, or never), cells in the
/// grid's id order (seed, batch size, momentum, lr); <c>best</c> each (target, family, batch size)'s best setting as
/// <see cref="ScalingStudy"/> reads it (a cell still training counts as not reached); <c>speed_up[t][b]</c> plain
/// SGD's steps over momentum's; <c>critical[t]</c> each family's critical batch size; in the last one only, <c>model</c>:
/// the noisy quadratic model's best steps per (target, family, batch size) (<see cref="ScalingStudy.QuadraticModel"/>,
/// null elsewhere); then <c>event: done</c>
/// <c>{"seconds"}</c>. Closing the connection stops the training within a step.
/// </summary>
public static class ScalingApi
{
    private static readonly TimeSpan StudyEvery = TimeSpan.FromMilliseconds(250);
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
            MomentumCount = q.Count(ApiLimits.Scaling.MomentumCount),
            Seeds = q.Wholes(ApiLimits.Scaling.Seeds),
            Steps = q.Count(ApiLimits.Scaling.Steps),
        };
        if (q.Error is not null) return null;
        long perBatch = (long)grid.LrCount * grid.MomentumCount * grid.Seeds.Count;
        double sampleSteps = grid.CellBatchSizes.Sum(b => (double)perBatch * grid.StepBudget(b) * b);
        if (grid.CellCount > ApiLimits.Scaling.MaxCells)
            q.Refuse($"lr-count x momentum-count x batch sizes x seeds must be at most {ApiLimits.Scaling.MaxCells} cells (got {grid.CellCount})");
        else if (sampleSteps > ApiLimits.Scaling.MaxSampleSteps)
            q.Refuse($"cells x steps x batch size, the samples the study would see, must be at most {ApiLimits.Scaling.MaxSampleSteps:0e0} (got {sampleSteps:0.##e0}): fewer steps, cells or large batches");
        else if (grid.Problem() is { } problem) q.Refuse(problem.ForApi);
        return q.Error is null ? grid : null;
    }

    private static void Train(SweepGrid grid, Action<string> send, CancellationToken cancel)
    {
        long total = grid.CellSteps(Shard.Whole), done = 0;
        var clock = Stopwatch.StartNew();
        TimeSpan progressSent = TimeSpan.Zero, studySent = TimeSpan.Zero;
        var results = SweepTraining.Train(grid, Shard.Whole, CPU, threads: 1, onSteps: n =>
        {
            done += n;
            if (clock.Elapsed - progressSent < ProgressEvery) return;
            progressSent = clock.Elapsed;
            send(Progress(done, total));
        }, onEpoch: (_, sofar) =>
        {
            if (clock.Elapsed - studySent < StudyEvery) return;
            studySent = clock.Elapsed;
            send(Progress(done, total));
            send(Study(grid, sofar()));
        }, cancel);
        send(Progress(total, total));
        // The noisy quadratic model of the net, tuned over the same grid, comes with the last study event only.
        send(Study(grid, results, new ScalingStudy(grid, results).QuadraticModel()?.Predicted));
        send(ServerSentEvents.Event("done", JsonSerializer.Serialize(new { seconds = clock.Elapsed.TotalSeconds })));
    }

    private static string Progress(long done, long total) => ServerSentEvents.Event("progress", $"{{\"cell_steps\":{done},\"total\":{total}}}");

    private static string Study(SweepGrid grid, IReadOnlyList<CellResult> sofar, IReadOnlyList<BestSetting>? model = null)
    {
        var study = new ScalingStudy(grid, sofar);
        static double? F(double v) => double.IsFinite(v) ? v : null;
        return ServerSentEvents.Event("study", JsonSerializer.Serialize(new
        {
            batch_sizes = grid.CellBatchSizes,
            targets = grid.Targets,
            lr = grid.LearningRates(),
            momentum = grid.Momenta(),
            seeds = grid.Seeds,
            steps = grid.Targets.Select((_, t) => sofar.Select(r => r.StepsToTargets[t])),
            best = study.Best.Select(b => new
            {
                target = b.Target, family = b.Family == Family.PlainSgd ? "sgd" : "momentum", batch_size = b.BatchSize,
                steps = F(b.Steps), fewest = F(b.FewestSteps), most = F(b.MostSteps), lr = F(b.Lr), momentum = F(b.Momentum),
            }),
            speed_up = grid.Targets.Select(t => grid.CellBatchSizes.Select(b => F(study.SpeedUp(b, t)))),
            critical = grid.Targets.Select(t => new { sgd = study.CriticalBatchSize(Family.PlainSgd, t), momentum = study.CriticalBatchSize(Family.Momentum, t) }),
            model = model?.Select(b => new
            {
                target = b.Target, family = b.Family == Family.PlainSgd ? "sgd" : "momentum", batch_size = b.BatchSize, steps = F(b.Steps), lr = F(b.Lr), momentum = F(b.Momentum),
            }),
        }));
    }
}
