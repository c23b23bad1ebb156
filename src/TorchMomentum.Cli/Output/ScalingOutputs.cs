using System.Globalization;
using ScottPlot;
using TorchMomentum.Sweeps;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// What a sweep with targets adds (and <c>scaling</c> is for): scaling.csv, every number the figures draw, and three
/// figures. scaling.png: steps to each target against batch size, log-log, one panel per target, plain SGD and momentum
/// each at its best, with its seeds' range, the perfect-scaling line, the critical batch size and the gradient noise scale. speedup.png: plain
/// SGD's steps over momentum's. best-lr.png: the best effective lr, lr/(1 - momentum), against batch size.
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

    /// <summary>Every file it writes.</summary>
    public static readonly string[] Files = [CsvFileName, StepsFileName, SpeedUpFileName, BestLrFileName];

    private static string FamilyName(Family f) => f == Family.PlainSgd ? "sgd" : "momentum";

    private static Color ColorOf(Family f) => f == Family.PlainSgd ? Colors.Black : Colors.OrangeRed;

    /// <summary>Writes scaling.csv: a row per batch size, target and family, with its best setting, the speed-up and perfect scaling's steps.</summary>
    public static void WriteCsv(string path, ScalingStudy study, IReadOnlyList<BestSetting> predicted, CancellationToken cancel)
    {
        static string N(double v) => double.IsFinite(v) ? CsvFile.Number(v) : "";
        BestSetting? Model(BestSetting b) => predicted.FirstOrDefault(p => p.BatchSize == b.BatchSize && p.Target == b.Target && p.Family == b.Family);
        CsvFile.Write(path, ["batch_size", "target", "family", "median_steps", "fewest_steps", "most_steps", "lr", "momentum", "effective_lr", "lr_on_grid_edge",
                "speed_up", "perfect_scaling_steps", "model_steps", "model_lr", "model_momentum"],
            study.Best.Select(b => (string[])
            [
                CsvFile.Number(b.BatchSize), CsvFile.Number(b.Target), FamilyName(b.Family), N(b.Steps), N(b.FewestSteps), N(b.MostSteps),
                N(b.Lr), N(b.Momentum), b.Reached ? N(b.EffectiveLr) : "", b.Reached ? (b.OnGridEdge ? "true" : "false") : "",
                N(study.SpeedUp(b.BatchSize, b.Target)),
                study.PerfectScalingAnchor(b.Family, b.Target) is { } a ? N(a.Steps * a.BatchSize / b.BatchSize) : "",
                Model(b) is { Reached: true } m ? N(m.Steps) : "", Model(b) is { Reached: true } ml ? N(ml.Lr) : "", Model(b) is { Reached: true } mm ? N(mm.Momentum) : "",
            ]), cancel);
    }

    /// <summary>Draws the three figures.</summary>
    public static void WriteFigures(string stepsPath, string speedUpPath, string bestLrPath, ScalingStudy study, IReadOnlyDictionary<Family, IReadOnlyList<NoiseScaleAt>> noise,
        IReadOnlyList<BestSetting> predicted)
    {
        var targets = study.Grid.Targets;
        var panels = targets.Select((t, i) => (StepsPanel(study, t, noise.ToDictionary(n => n.Key, n => n.Value[i].NoiseScale), predicted), $"Steps to full-data loss {Shown.Number(t)}", "batch size (log scale)", "steps (log scale)")).ToList();
        PlotFile.SavePanels(panels, stepsPath, Alignment.LowerLeft);

        var speedUp = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < targets.Count; i++)
        {
            var points = study.Grid.CellBatchSizes.Order().Select(b => (b, r: study.SpeedUp(b, targets[i]))).Where(p => double.IsFinite(p.r)).ToArray();
            if (points.Length == 0) continue;
            var line = speedUp.Add.Scatter(points.Select(p => Math.Log10(p.b)).ToArray(), points.Select(p => p.r).ToArray(), palette.GetColor(i));
            line.LegendText = $"target {Shown.Number(targets[i])}";
        }
        var even = speedUp.Add.HorizontalLine(1, 1, Colors.Gray, LinePattern.Dashed);
        even.LegendText = "equal steps";
        speedUp.Axes.Bottom.TickGenerator = BatchTicks(study);
        PlotFile.Save(speedUp, speedUpPath, "Momentum's speed-up over plain SGD, each tuned at every batch size", "batch size (log scale)",
            "plain SGD's steps / momentum's steps", Alignment.UpperLeft);

        var lrs = new Plot();
        for (int i = 0; i < targets.Count; i++)
            foreach (var family in study.Families)
            {
                var curve = study.Curve(family, targets[i]).Where(b => b.Reached).ToArray();
                if (curve.Length == 0) continue;
                var line = lrs.Add.Scatter(curve.Select(b => Math.Log10(b.BatchSize)).ToArray(), curve.Select(b => Math.Log10(b.EffectiveLr)).ToArray(), palette.GetColor(i));
                line.LinePattern = family == Family.PlainSgd ? LinePattern.Solid : LinePattern.Dashed;
                line.MarkerShape = family == Family.PlainSgd ? MarkerShape.FilledCircle : MarkerShape.OpenSquare;
                line.LegendText = $"{(family == Family.PlainSgd ? "plain SGD" : "momentum")}, target {Shown.Number(targets[i])}";
            }
        lrs.Axes.Bottom.TickGenerator = BatchTicks(study);
        var drawnLrs = study.Best.Where(b => b.Reached).Select(b => Math.Log10(b.EffectiveLr)).ToArray();
        if (drawnLrs.Length > 0) lrs.Axes.Left.TickGenerator = LogAxis.OneTwoFiveTicks(drawnLrs.Min() - 0.1, drawnLrs.Max() + 0.1);
        PlotFile.Save(lrs, bestLrPath, "The best effective learning rate lr/(1 - momentum) at each batch size", "batch size (log scale)",
            "best lr/(1 - momentum) (log scale)", Alignment.UpperLeft);
    }

    private static Plot StepsPanel(ScalingStudy study, double target, IReadOnlyDictionary<Family, double?> noise, IReadOnlyList<BestSetting> predicted)
    {
        var plot = new Plot();
        double yMin = double.PositiveInfinity, yMax = double.NegativeInfinity;
        var drawn = study.Families.Select(f => (Family: f, Curve: study.Curve(f, target).Where(b => b.Reached).ToArray())).Where(d => d.Curve.Length > 0).ToArray();
        // The seeds' range of a best setting is drawn up to 4 times the largest median (a seed that never reached has no top).
        double cap = drawn.Length == 0 ? 1 : drawn.Max(d => d.Curve.Max(b => b.Steps)) * 4;
        foreach (var (family, curve) in drawn)
        {
            yMin = Math.Min(yMin, curve.Min(b => Math.Log10(b.FewestSteps)));
            yMax = Math.Max(yMax, curve.Max(b => Math.Log10(Math.Min(b.MostSteps, cap))));
        }
        // Perfect scaling falls a decade per decade of batch size: drawn only as far as half a decade below the data.
        var modelled = predicted.Where(p => p.Target == target && p.Reached).Select(p => Math.Log10(p.Steps)).ToArray();
        if (double.IsFinite(yMin) && modelled.Length > 0) (yMin, yMax) = (Math.Min(yMin, modelled.Min()), Math.Max(yMax, modelled.Max()));
        double floor = yMin - 0.5;
        foreach (var (family, curve) in drawn)
        {
            var xs = curve.Select(b => Math.Log10(b.BatchSize)).ToArray();
            var color = ColorOf(family);
            var band = plot.Add.FillY(xs, curve.Select(b => Math.Log10(b.FewestSteps)).ToArray(), curve.Select(b => Math.Log10(Math.Min(b.MostSteps, cap))).ToArray());
            band.FillColor = color.WithAlpha(0.15);
            band.LineWidth = 0;
            var line = plot.Add.Scatter(xs, curve.Select(b => Math.Log10(b.Steps)).ToArray(), color);
            line.LineWidth = 2;
            line.LegendText = family == Family.PlainSgd ? "plain SGD, best lr (band: its seeds)" : "momentum, best lr and momentum";
            if (study.PerfectScalingAnchor(family, target) is { } a)
            {
                double top = Math.Log10(a.Steps * a.BatchSize);
                double[] ends = [Math.Log10(a.BatchSize), Math.Min(Math.Log10(study.Grid.CellBatchSizes.Max()), top - floor)];
                var perfect = plot.Add.ScatterLine(ends, ends.Select(x => top - x).ToArray(), color);
                perfect.LinePattern = LinePattern.Dotted;
                perfect.LineWidth = 1.5f;
                perfect.LegendText = $"perfect scaling from batch {a.BatchSize} (slope -1)";
            }
            string who = family == Family.PlainSgd ? "SGD" : "momentum";
            if (study.CriticalBatchSize(family, target) is { } critical)
            {
                var mark = plot.Add.VerticalLine(Math.Log10(critical), 1, color, LinePattern.Dashed);
                mark.LegendText = $"{who}'s critical batch {critical.ToString("0.#", CultureInfo.InvariantCulture)}";
            }
            if (noise.GetValueOrDefault(family) is { } scale && scale > 0)
            {
                var mark = plot.Add.VerticalLine(Math.Log10(scale), 1.5f, color, LinePattern.DenselyDashed);
                mark.LegendText = $"{who}'s B_noise {scale.ToString("0.##", CultureInfo.InvariantCulture)} (McCandlish)";
            }
        }
        // The noisy quadratic model's prediction, tuned over the same grid: thin, dash-dotted, each family in its colour.
        foreach (var family in study.Families)
        {
            var model = predicted.Where(p => p.Family == family && p.Target == target && p.Reached).OrderBy(p => p.BatchSize).ToArray();
            if (model.Length == 0) continue;
            var line = plot.Add.ScatterLine(model.Select(p => Math.Log10(p.BatchSize)).ToArray(), model.Select(p => Math.Log10(p.Steps)).ToArray(), ColorOf(family).WithAlpha(0.7));
            line.LinePattern = LinePattern.DenselyDashed;
            line.LineWidth = 1.5f;
            line.LegendText = $"{(family == Family.PlainSgd ? "SGD" : "momentum")}: noisy quadratic model";
        }
        plot.Axes.Bottom.TickGenerator = BatchTicks(study);
        if (double.IsFinite(yMin))
        {
            plot.Axes.Left.TickGenerator = LogAxis.OneTwoFiveTicks(floor, yMax + 0.1);
            plot.Axes.SetLimitsY(floor, yMax + 0.1);
        }
        return plot;
    }

    private static ScottPlot.TickGenerators.NumericManual BatchTicks(ScalingStudy study)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (int b in study.Grid.CellBatchSizes) ticks.AddMajor(Math.Log10(b), b.ToString(CultureInfo.InvariantCulture));
        return ticks;
    }
}
