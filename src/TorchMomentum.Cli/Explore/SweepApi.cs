using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TorchMomentum.Sweeps;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// <c>GET /api/sweep</c> (<c>engine=fused|torch</c> as <c>sweep --engine</c>, fused by default): a small <c>torchmomentum sweep</c> trained live on one core, streamed as server-sent events:
/// <c>event: progress</c> <c>{"cell_steps", "total"}</c> as it goes; after each epoch <c>event: map</c> <c>{"epoch",
/// "lr", "momentum", "loss", "diverged_seeds"}</c>, the map so far (<c>loss[m][l]</c> the median over seeds of that
/// epoch's mean loss, as <see cref="SweepMap"/> takes it, null where at least half the seeds diverged); then
/// <c>event: done</c> <c>{"seconds", "cells": [{"lr", "momentum", "seed", "epoch_losses", "diverged_step"}]}</c> with
/// every cell's per-epoch losses in id order, the numbers of <see cref="SweepTraining"/> itself. Closing the
/// connection stops the training within a step.
/// </summary>
public static class SweepApi
{
    // Progress at most this often: a step of a small grid takes well under a millisecond.
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
        // Map events are a few tens of KB: a few of them are buffer enough.
        await slots.Hold(context, () => ServerSentEvents.Stream(context, stopping, buffered: 4, (send, cancel) => Train(grid, send, cancel)));
    }

    /// <summary>The grid a request asks for, or null when <paramref name="q"/> has found a problem with it.</summary>
    public static SweepGrid? Grid(QueryValues q)
    {
        var (lrMin, momentumMin) = (ApiLimits.Sweep.LrMin, ApiLimits.Sweep.MomentumMin);
        // The maxima first: each minimum may not exceed its maximum (its AtMost), and its default does not either.
        double lrMax = q.Number(ApiLimits.Sweep.LrMax), momentumMax = q.Number(ApiLimits.Sweep.MomentumMax);
        var grid = new SweepGrid
        {
            LrMin = q.Number(lrMin with { Default = Math.Min(lrMin.Default, lrMax), Range = lrMin.Range with { Max = lrMax } }),
            LrMax = lrMax,
            LrCount = q.Count(ApiLimits.Sweep.LrCount),
            MomentumMin = q.Number(momentumMin with { Default = Math.Min(momentumMin.Default, momentumMax), Range = momentumMin.Range with { Max = momentumMax } }),
            MomentumMax = momentumMax,
            MomentumCount = q.Count(ApiLimits.Sweep.MomentumCount),
            Seeds = q.Wholes(ApiLimits.Sweep.Seeds),
            Engine = q.Engine(),
            Training = new ExperimentSettings { Epochs = q.Count(ApiLimits.Sweep.Epochs) },
        };
        if (q.Error is not null) return null;
        if (grid.CellCount > ApiLimits.Sweep.MaxCells)
            q.Refuse($"lr-count x momentum-count x seeds must be at most {ApiLimits.Sweep.MaxCells} cells (got {grid.LrCount} x {grid.MomentumCount} x {grid.Seeds.Count} = {grid.CellCount})");
        // The sweep's own check too, though the ranges above leave it nothing to find, in the API's words.
        else if (grid.Problem() is { } problem) q.Refuse(problem.ForApi);
        return q.Error is null ? grid : null;
    }

    private static void Train(SweepGrid grid, Action<string> send, CancellationToken cancel)
    {
        long total = grid.CellCount * grid.Training.TotalSteps, done = 0;
        var clock = Stopwatch.StartNew();
        send(Progress(0, total)); // at once, before the first cell trains: the page answers within a frame of its request
        var sent = TimeSpan.Zero;
        // One thread: one request takes one core, and the server's slots bound how many run at once.
        var results = SweepTraining.Train(grid, Shard.Whole, CPU, threads: 1, onSteps: n =>
        {
            // With one thread this is always the calling thread: no other writes done.
            done += n;
            if (clock.Elapsed - sent < ProgressEvery) return;
            sent = clock.Elapsed;
            send(Progress(done, total));
        }, onEpoch: (epochs, sofar) =>
        {
            send(Progress(done, total));
            send(Map(grid, epochs, sofar()));
        }, cancel);
        send(ServerSentEvents.Event("done", JsonSerializer.Serialize(new
        {
            seconds = clock.Elapsed.TotalSeconds,
            cells = results.Select(r => new { lr = r.Cell.Lr, momentum = r.Cell.Momentum, seed = r.Cell.Seed, epoch_losses = r.EpochLosses, diverged_step = r.DivergedStep }),
        })));
    }

    private static string Progress(long done, long total) => ServerSentEvents.Event("progress", $"{{\"cell_steps\":{done},\"total\":{total}}}");

    // The map of the epochs done so far: each cell's last epoch is the one just finished.
    private static string Map(SweepGrid grid, int epochs, IReadOnlyList<CellResult> sofar)
    {
        var map = new SweepMap(grid, sofar);
        var rows = Enumerable.Range(0, map.Momenta.Length).Select(m => Enumerable.Range(0, map.Rates.Length).Select(l => map.Points[m, l]).ToArray()).ToArray();
        return ServerSentEvents.Event("map", JsonSerializer.Serialize(new
        {
            epoch = epochs,
            lr = map.Rates,
            momentum = map.Momenta,
            // JSON has no infinity: a diverged point is null.
            loss = rows.Select(row => row.Select(p => p.Measured ? p.MedianLoss : (double?)null)),
            diverged_seeds = rows.Select(row => row.Select(p => p.DivergedSeeds)),
        }));
    }
}
