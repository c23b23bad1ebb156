using System.Globalization;
using ScottPlot;
using TorchMomentum.Sweeps;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// What a sweep with targets adds (and <c>scaling</c> is for): scaling.csv, every number the figures draw, and four
/// figures, each from the held-out seeds and the sustained measure. scaling.png: steps to each target against batch
/// size, log-log, one panel per target, each family at each label noise. speedup.png: plain SGD's steps over
/// momentum's with its 95% interval, one curve per label noise. critical-batch.png: each family's critical batch size
/// against the label noise. best-lr.png: the chosen effective lr, lr/(1 - momentum), against batch size.
/// </summary>
public static class ScalingOutputs
{
    /// <summary>The table's name inside a run folder.</summary>
    public const string CsvFileName = "scaling.csv";

    /// <summary>Figure (a)'s name.</summary>
    public const string StepsFileName = "scaling.png";

    /// <summary>Figure (b)'s name.</summary>
    public const string SpeedUpFileName = "speedup.png";

    /// <summary>Figure (c)'s name.</summary>
    public const string BestLrFileName = "best-lr.png";

    /// <summary>Figure (d)'s name.</summary>
    public const string CriticalFileName = "critical-batch.png";

    /// <summary>Every file it writes.</summary>
    public static readonly string[] Files = [CsvFileName, StepsFileName, SpeedUpFileName, BestLrFileName, CriticalFileName];

    /// <summary>What a study's outputs add at one label noise beyond its rows: the gradient noise scales along each family's run and the noisy quadratic model's predictions.</summary>
    /// <param name="LabelNoise">The label noise.</param>
    /// <param name="Noise">B_noise per family and target (<see cref="ScalingStudy.NoiseScales"/>).</param>
    /// <param name="Predicted">The model's best per batch size, target and family (<see cref="ScalingStudy.QuadraticModel"/>); empty when it could not be built.</param>
    public sealed record Extras(double LabelNoise, IReadOnlyDictionary<Family, IReadOnlyList<NoiseScaleAt>> Noise, IReadOnlyList<ModelPrediction> Predicted)
    {
        /// <summary>Works both out for every label noise of the study (a second or two each).</summary>
        public static IReadOnlyList<Extras> Of(ScalingStudy study) =>
            [.. study.Grid.NoiseLevels.Select(n => new Extras(n, study.NoiseScales(n), study.QuadraticModel(n)?.Predicted ?? []))];

        /// <summary>The model's prediction at one problem, or null.</summary>
        public ModelPrediction? Model(int batchSize, double target, Family family) =>
            Predicted.FirstOrDefault(p => p.BatchSize == batchSize && p.Target == target && p.Family == family);

        /// <summary>The model's steps over the held-out mean's (<see cref="Measure.Mean"/>): how far off the model is; null where either did not arrive.</summary>
        public double? ModelError(ScalingStudy study, int batchSize, double target, Family family)
        {
            var measured = study.Rows.FirstOrDefault(r => r.LabelNoise == LabelNoise && r.Measure == Measure.Mean && r.BatchSize == batchSize && r.Target == target && r.Family == family);
            return measured is { Reached: true } && Model(batchSize, target, family) is { Reached: true } model ? model.Steps / measured.Steps : null;
        }
    }

    /// <summary>A family's name in the files: sgd or momentum.</summary>
    public static string Name(Family f) => f == Family.PlainSgd ? "sgd" : "momentum";

    /// <summary>A measure's name in the files.</summary>
    public static string Name(Measure m) => m.ToString().ToLowerInvariant();

    /// <summary>A verdict's name in the files.</summary>
    public static string Name(Verdict v) => v.ToString().ToLowerInvariant();

    private static Color ColorOf(Family f) => f == Family.PlainSgd ? Colors.Black : Colors.OrangeRed;

    private static string N(double v) => double.IsFinite(v) ? CsvFile.Number(v) : "";

    // A speed-up is infinite where only momentum arrives, 0 where only plain SGD does: both are answers, written out.
    private static string Ratio(double v) => double.IsPositiveInfinity(v) ? "inf" : N(v);

    /// <summary>
    /// Writes scaling.csv: a row per (label noise, measure, batch size, target, family), with the chosen setting, the
    /// median of the studies' held-out steps and their range, on momentum's row the speed-up with its interval and
    /// verdict, on sustained rows perfect scaling's steps, on mean rows the noisy quadratic model's steps.
    /// </summary>
    public static void WriteCsv(string path, ScalingStudy study, IReadOnlyList<Extras> extras, CancellationToken cancel)
    {
        var grid = study.Grid;
        string targetColumn = grid.Excess.Count > 0 ? "excess" : "target";
        CsvFile.Write(path, ["label_noise", "measure", "batch_size", targetColumn, "family", "lr", "momentum", "effective_lr", "on_edge", "median_steps",
                "studies_fewest_steps", "studies_most_steps", "speedup", "speedup_low", "speedup_high", "verdict", "perfect_scaling_steps", "model_steps"],
            study.Rows.Select(r =>
            {
                var extra = extras.First(e => e.LabelNoise == r.LabelNoise);
                return (string[])
                [
                    CsvFile.Number(r.LabelNoise), Name(r.Measure), CsvFile.Number(r.BatchSize), CsvFile.Number(r.Target), Name(r.Family),
                    N(r.Lr), N(r.Momentum), N(r.EffectiveLr), double.IsFinite(r.Lr) ? (r.OnEdge ? "true" : "false") : "",
                    N(r.Steps), N(r.FewestSteps), N(r.MostSteps), Ratio(r.SpeedUp), Ratio(r.SpeedUpLow), Ratio(r.SpeedUpHigh), r.Verdict is { } v ? Name(v) : "",
                    r.Measure == Measure.Sustained && study.PerfectScalingAnchor(r.LabelNoise, r.Family, r.Target) is { } a ? N(a.Steps * a.BatchSize / r.BatchSize) : "",
                    r.Measure == Measure.Mean && extra.Model(r.BatchSize, r.Target, r.Family) is { Reached: true } m ? N(m.Steps) : "",
                ];
            }), cancel);
    }

    /// <summary>Draws the four figures.</summary>
    public static void WriteFigures(string stepsPath, string speedUpPath, string bestLrPath, string criticalPath, ScalingStudy study)
    {
        var grid = study.Grid;
        var palette = new ScottPlot.Palettes.Category10();
        bool several = grid.NoiseLevels.Count > 1;
        string Level(double noise) => $"label noise {Shown.Number(noise)}";

        var panels = grid.TargetNames.Select(t => (StepsPanel(study, t, palette), $"Steps to {TargetText(grid, t)}, held out", "batch size (log scale)", "steps (log scale)")).ToList();
        PlotFile.SavePanels(panels, stepsPath, Alignment.LowerLeft);

        var speedUps = grid.TargetNames.Select(t =>
        {
            var plot = new Plot();
            for (int n = 0; n < grid.NoiseLevels.Count; n++)
            {
                var points = grid.CellBatchSizes.Order().Select(b => study.Comparison(grid.NoiseLevels[n], Measure.Sustained, b, t))
                    .Where(r => r is { Verdict: not Verdict.Unreached } && double.IsFinite(r.SpeedUp) && r.SpeedUp > 0).Select(r => r!).ToArray();
                if (points.Length == 0) continue;
                double[] xs = [.. points.Select(p => Math.Log10(p.BatchSize))];
                // The interval's ends drawn within a decade of the point: an end at 0 or infinity has no place on a log axis.
                double Clamp(double v, double p) => Math.Log10(Math.Clamp(v, p / 10, p * 10));
                var band = plot.Add.FillY(xs, [.. points.Select(p => Clamp(p.SpeedUpLow, p.SpeedUp))], [.. points.Select(p => Clamp(p.SpeedUpHigh, p.SpeedUp))]);
                band.FillColor = palette.GetColor(n).WithAlpha(0.15);
                band.LineWidth = 0;
                var line = plot.Add.Scatter(xs, [.. points.Select(p => Math.Log10(p.SpeedUp))], palette.GetColor(n));
                line.LegendText = several ? Level(grid.NoiseLevels[n]) : "held-out speed-up (band: 95% interval)";
            }
            var even = plot.Add.HorizontalLine(0, 1, Colors.Gray, LinePattern.Dashed);
            even.LegendText = "equal steps";
            plot.Axes.Bottom.TickGenerator = BatchTicks(grid);
            plot.Axes.Left.TickGenerator = LogAxis.OneTwoFiveTicks(-0.5, 1);
            return (plot, $"Momentum's speed-up, {TargetText(grid, t)}", "batch size (log scale)", "plain SGD's steps / momentum's (log scale)");
        }).ToList();
        PlotFile.SavePanels(speedUps, speedUpPath, Alignment.UpperLeft);

        var lrs = new Plot();
        double tight = grid.TargetNames.Min();
        for (int n = 0; n < grid.NoiseLevels.Count; n++)
            foreach (var family in study.Families)
            {
                var curve = study.Curve(grid.NoiseLevels[n], Measure.Sustained, family, tight).Where(b => b.Reached).ToArray();
                if (curve.Length == 0) continue;
                var line = lrs.Add.Scatter(curve.Select(b => Math.Log10(b.BatchSize)).ToArray(), curve.Select(b => Math.Log10(b.EffectiveLr)).ToArray(), palette.GetColor(n));
                line.LinePattern = family == Family.PlainSgd ? LinePattern.Solid : LinePattern.Dashed;
                line.MarkerShape = family == Family.PlainSgd ? MarkerShape.FilledCircle : MarkerShape.OpenSquare;
                line.LegendText = $"{(family == Family.PlainSgd ? "plain SGD" : "momentum")}{(several ? $", {Level(grid.NoiseLevels[n])}" : "")}";
            }
        lrs.Axes.Bottom.TickGenerator = BatchTicks(grid);
        var drawnLrs = study.Rows.Where(b => b.Reached && b.Measure == Measure.Sustained).Select(b => Math.Log10(b.EffectiveLr)).ToArray();
        if (drawnLrs.Length > 0) lrs.Axes.Left.TickGenerator = LogAxis.OneTwoFiveTicks(drawnLrs.Min() - 0.1, drawnLrs.Max() + 0.1);
        PlotFile.Save(lrs, bestLrPath, $"The chosen effective learning rate lr/(1 - momentum), {TargetText(grid, tight)}", "batch size (log scale)",
            "lr/(1 - momentum) (log scale)", Alignment.UpperLeft);

        var critical = new Plot();
        for (int t = 0; t < grid.TargetNames.Count; t++)
            foreach (var family in study.Families)
            {
                var points = grid.NoiseLevels.Select(n => (n, b: study.CriticalBatchSize(n, family, grid.TargetNames[t]))).Where(p => p.b is not null).ToArray();
                if (points.Length == 0) continue;
                var line = critical.Add.Scatter(points.Select(p => p.n).ToArray(), points.Select(p => Math.Log10(p.b!.Value)).ToArray(), palette.GetColor(t));
                line.LinePattern = family == Family.PlainSgd ? LinePattern.Solid : LinePattern.Dashed;
                line.MarkerShape = family == Family.PlainSgd ? MarkerShape.FilledCircle : MarkerShape.OpenSquare;
                line.LegendText = $"{(family == Family.PlainSgd ? "plain SGD" : "momentum")}, {TargetText(grid, grid.TargetNames[t])}";
            }
        critical.Axes.Left.TickGenerator = LogAxis.OneTwoFiveTicks(0, Math.Log10(grid.CellBatchSizes.Max()));
        PlotFile.Save(critical, criticalPath, "Critical batch size against the label noise (missing: beyond the grid)",
            "label noise sigma", "critical batch size (log scale)", Alignment.UpperLeft);
    }

    /// <summary>How a target reads: "excess 0.002" above each seed's noise floor, or "loss 0.0124".</summary>
    public static string TargetText(SweepGrid grid, double target) => grid.Excess.Count > 0 ? $"excess {Shown.Number(target)}" : $"loss {Shown.Number(target)}";

    private static Plot StepsPanel(ScalingStudy study, double target, ScottPlot.Palettes.Category10 palette)
    {
        var grid = study.Grid;
        var plot = new Plot();
        for (int n = 0; n < grid.NoiseLevels.Count; n++)
            foreach (var family in study.Families)
            {
                var curve = study.Curve(grid.NoiseLevels[n], Measure.Sustained, family, target).Where(b => b.Reached).ToArray();
                if (curve.Length == 0) continue;
                var color = grid.NoiseLevels.Count > 1 ? palette.GetColor(n) : ColorOf(family);
                var line = plot.Add.Scatter(curve.Select(b => Math.Log10(b.BatchSize)).ToArray(), curve.Select(b => Math.Log10(b.Steps)).ToArray(), color);
                line.LineWidth = 2;
                line.LinePattern = family == Family.PlainSgd ? LinePattern.Solid : LinePattern.Dashed;
                line.MarkerShape = family == Family.PlainSgd ? MarkerShape.FilledCircle : MarkerShape.OpenSquare;
                line.LegendText = $"{(family == Family.PlainSgd ? "plain SGD" : "momentum")}{(grid.NoiseLevels.Count > 1 ? $", label noise {Shown.Number(grid.NoiseLevels[n])}" : "")}";
                if (grid.NoiseLevels.Count == 1 && study.CriticalBatchSize(grid.NoiseLevels[n], family, target) is { } critical)
                {
                    var mark = plot.Add.VerticalLine(Math.Log10(critical), 1, color, LinePattern.Dotted);
                    mark.LegendText = $"{(family == Family.PlainSgd ? "SGD" : "momentum")}'s critical batch {critical.ToString("0.#", CultureInfo.InvariantCulture)}";
                }
            }
        var drawn = study.Rows.Where(r => r.Measure == Measure.Sustained && r.Target == target && r.Reached).Select(r => Math.Log10(r.Steps)).ToArray();
        plot.Axes.Bottom.TickGenerator = BatchTicks(grid);
        if (drawn.Length > 0)
        {
            plot.Axes.Left.TickGenerator = LogAxis.OneTwoFiveTicks(drawn.Min() - 0.1, drawn.Max() + 0.1);
            plot.Axes.SetLimitsY(drawn.Min() - 0.1, drawn.Max() + 0.1);
        }
        return plot;
    }

    private static ScottPlot.TickGenerators.NumericManual BatchTicks(SweepGrid grid)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (int b in grid.CellBatchSizes) ticks.AddMajor(Math.Log10(b), b.ToString(CultureInfo.InvariantCulture));
        return ticks;
    }
}
