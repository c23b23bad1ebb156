using TorchMomentum.Model;
using Microsoft.AspNetCore.Http;
using TorchMomentum.Cli.Output;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// <c>GET /api/train</c> (sections 5.5, 5.6): the chapter's experiment trained live, streamed as server-sent
/// events, one <c>data: {"step", "epoch", "sgd", "momentum", "handwritten"}</c> per step (a loss per contestant of
/// <c>contestants=</c>, as train's --contestants) with the same losses as train's losses.csv, then
/// <c>event: done</c>. What the nets learn comes with it (<see cref="ChapterRun.Fit"/>, train's fit.png): first
/// <c>event: data</c> <c>{"x", "y", "grid", "curve"}</c>, the run's data, the inputs predicted on and y = x^2 there;
/// then <c>event: fit</c> <c>{"step", "sgd": [...], ...}</c>, each contestant's predictions on the grid, before
/// the first step (step -1), after every <see cref="FitEvery"/> steps and after the last. And how sharp the loss is
/// (section 5.2, on the net itself: <see cref="Curvature.NetHessian"/>): <c>event: sharpness</c> <c>{"step", "sgd":
/// lambda_max, ...}</c>, each contestant's full-data Hessian's largest eigenvalue, at the start and after every
/// <see cref="SharpnessEvery"/> steps, for nets whose Hessian is cheap enough (<see cref="SharpnessBudget"/>).
/// Closing the connection stops the training within a step.
/// </summary>
public static class TrainApi
{
    /// <summary>Inputs evenly spaced over [-1, 1] that the predictions are sent for.</summary>
    public const int FitPoints = 101;

    /// <summary>Most fit events of one training besides the first and the last: what bounds their size.</summary>
    public const int MostFits = 100;

    /// <summary>Steps between two fit events: a training's steps spread over at most <see cref="MostFits"/> of them.</summary>
    public static int FitEvery(ExperimentSettings settings) => Math.Max(1, (settings.StepsPerEpoch * settings.Epochs + MostFits - 1) / MostFits);

    /// <summary>Most sharpness events of one training besides the first and the last.</summary>
    public const int MostSharpness = 50;

    /// <summary>Steps between two sharpness events.</summary>
    public static int SharpnessEvery(ExperimentSettings settings) => Math.Max(1, (settings.StepsPerEpoch * settings.Epochs + MostSharpness - 1) / MostSharpness);

    /// <summary>
    /// Most work one sharpness measurement of a net may take: samples x P^2 for the Hessian's Gauss-Newton product and
    /// about 10 P^3 for its eigenvalues (P = 3 hidden + 1 parameters), a few milliseconds to 20 ms on one core. The
    /// chapter's net fits on up to 10,000 samples; wider nets get no sharpness events (the done event says so).
    /// </summary>
    public const double SharpnessBudget = 4e7;

    /// <summary>Whether a training of these settings streams its sharpness.</summary>
    public static bool StreamsSharpness(ExperimentSettings settings)
    {
        double p = 3.0 * settings.Hidden + 1;
        return settings.Samples * p * p + 10 * p * p * p <= SharpnessBudget;
    }

    /// <summary>Answers one request, holding a slot of <paramref name="slots"/> while it trains.</summary>
    public static async Task Handle(HttpContext context, TrainingSlots slots, CancellationToken stopping)
    {
        var q = new QueryValues(context.Request.Query);
        int samples = q.Count(ApiLimits.Train.Samples);
        var batchSize = ApiLimits.Train.BatchSize;
        var settings = new ExperimentSettings
        {
            LearningRate = q.Number(ApiLimits.Train.Lr),
            Momentum = q.Number(ApiLimits.Train.Momentum),
            // At most the samples there are (its AtMost).
            BatchSize = q.Count(batchSize with { Default = Math.Min(batchSize.Default, samples), Range = batchSize.Range with { Max = samples } }),
            Epochs = q.Count(ApiLimits.Train.Epochs),
            Seed = q.Count(ApiLimits.Train.Seed),
            Samples = samples,
            Hidden = q.Count(ApiLimits.Train.Hidden),
            Contestants = q.Contestants(),
        };
        if (q.Error is not null)
        {
            await q.BadRequest().ExecuteAsync(context);
            return;
        }
        await slots.Hold(context, () => Stream(context, settings, stopping));
    }

    // The small buffer holds training back when the client reads slowly.
    private static Task Stream(HttpContext context, ExperimentSettings settings, CancellationToken stopping) =>
        ServerSentEvents.Stream(context, stopping, buffered: 64, (send, _) =>
        {
            using var run = new ChapterRun(settings, CPU);
            var fit = run.Fit(FitPoints);
            send(ServerSentEvents.Event("data", $"{{\"x\":{Numbers(fit.DataX)},\"y\":{Numbers(fit.DataY)},\"grid\":{Numbers(fit.GridX)}," +
                $"\"curve\":{Numbers(fit.GridX.Select(Data.ChapterData.Curve))}}}"));
            send(FitEvent(-1, fit.Predictions, run.Names));
            bool sharpness = StreamsSharpness(settings);
            double[] x = fit.DataX, y = fit.DataY;
            if (sharpness) send(SharpnessEvent(-1, run, x, y));
            int sent = 0, every = FitEvery(settings), sharpnessEvery = SharpnessEvery(settings);
            foreach (var step in run.Train())
            {
                send(Event(step, run.Names));
                sent++;
                if (sent % every == 0) send(FitEvent(step.Step, run.Predictions(FitPoints), run.Names));
                if (sharpness && sent % sharpnessEvery == 0) send(SharpnessEvent(step.Step, run, x, y));
            }
            if (sent % every != 0) send(FitEvent(sent - 1, run.Predictions(FitPoints), run.Names));
            if (sharpness && sent % sharpnessEvery != 0) send(SharpnessEvent(sent - 1, run, x, y));
            var divergence = run.Divergence;
            string end = divergence is null ? "null"
                : $"{{\"optimizer\":\"{divergence.Optimizer}\",\"step\":{divergence.Step},\"last_finite_loss\":{CsvFile.Number(divergence.LastFiniteLoss)}}}";
            send(ServerSentEvents.Event("done", $"{{\"steps\":{sent},\"divergence\":{end},\"sharpness\":{(sharpness ? "true" : "false")}}}"));
        });

    // Each contestant's lambda_max on the run's own data (float64); a diverged net's is null.
    private static string SharpnessEvent(int step, ChapterRun run, double[] x, double[] y) => ServerSentEvents.Event("sharpness",
        $"{{\"step\":{step}" + string.Concat(run.Names.Select(name =>
        {
            var w = NetWeights.Of(run.NetOf(name)!);
            using var hessian = Curvature.NetHessian.Of(w, x, y);
            double lambda = hessian.isfinite().all().item<bool>() ? Curvature.NetHessian.Eigenvalues(hessian)[0] : double.NaN;
            return $",\"{name}\":{(double.IsFinite(lambda) ? CsvFile.Number(lambda) : "null")}";
        })) + "}");

    private static string FitEvent(int step, IReadOnlyList<double[]> predictions, IReadOnlyList<string> names) => ServerSentEvents.Event("fit",
        $"{{\"step\":{step}" + string.Concat(names.Select((name, i) => $",\"{name}\":{Numbers(predictions[i])}")) + "}");

    // A JSON array of numbers; a diverged net's predictions may not be finite, and JSON has no NaN: those are null.
    private static string Numbers(IEnumerable<double> values) =>
        "[" + string.Join(",", values.Select(v => double.IsFinite(v) ? CsvFile.Number(v) : "null")) + "]";

    // The losses in their shortest round-trip form, as losses.csv writes them.
    private static string Event(TrainingStep step, IReadOnlyList<string> names) => ServerSentEvents.Event(null,
        $"{{\"step\":{step.Step},\"epoch\":{step.Epoch}" + string.Concat(names.Select((name, i) => $",\"{name}\":{CsvFile.Number(step.Losses[i])}")) + "}");
}
