using System.Globalization;
using ScottPlot;
using TorchMomentum.Sweeps;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// A sweep's two figures. sweep.png: the map of the last epoch's median loss over log lr and momentum, with lines of
/// constant lr/(1 - momentum), the diverged region and the chapter's point. effective-lr.png: that loss against
/// lr/(1 - momentum), one curve per momentum: where the curves fall on each other, momentum acted as a bigger
/// learning rate; where they part, it did something else.
/// </summary>
public static class SweepPlots
{
    /// <summary>The map's file name inside a run folder.</summary>
    public const string MapFileName = "sweep.png";

    /// <summary>The effective-lr figure's file name inside a run folder.</summary>
    public const string EffectiveLrFileName = "effective-lr.png";

    private static readonly Color DivergedColor = Colors.LightGray;

    /// <summary>Draws sweep.png.</summary>
    public static void WriteMap(string path, SweepMap map)
    {
        var plot = new Plot();
        int rows = map.Momenta.Length, columns = map.Rates.Length;
        var intensities = new double[rows, columns];
        for (int m = 0; m < rows; m++)
            for (int l = 0; l < columns; l++)
                intensities[m, l] = map.Points[m, l].Diverged ? double.NaN : Math.Log10(map.Points[m, l].MedianLoss);
        var (x0, x1) = Edges(map.Rates.Select(Math.Log10).ToArray());
        var (y0, y1) = Edges(map.Momenta);
        // The colours span the best loss up to 1 (ten times what predicting the mean of y costs): above it all is equally bad,
        // and a few exploding cells would otherwise squeeze the region worth reading into one colour.
        var finite = intensities.Cast<double>().Where(double.IsFinite).ToArray();
        if (finite.Length == 0)
        {
            // Nothing to colour (every cell diverged, or none finished an epoch within its budget): the map says so.
            var empty = plot.Add.Text("no cell has a last epoch's loss: each diverged or finished no epoch", (x0 + x1) / 2, (y0 + y1) / 2);
            empty.Alignment = Alignment.MiddleCenter;
        }
        else
        {
            var heatmap = plot.Add.Heatmap(intensities);
            heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
            heatmap.FlipVertically = true; // row 0, the smallest momentum, at the bottom
            heatmap.NaNCellColor = DivergedColor;
            heatmap.Rectangle = new CoordinateRect(x0, x1, y0, y1);
            var colorBar = plot.Add.ColorBar(heatmap);
            colorBar.Label = "median last-epoch loss (1 or more: top colour)";
            double low = finite.Min(), high = Math.Max(Math.Min(finite.Max(), 0), low + 0.5);
            heatmap.ManualRange = new ScottPlot.Range(low, high);
            colorBar.Axis.TickGenerator = LogAxis.OneTwoFiveTicks(low, high);
        }

        // Lines of constant effective lr: m = 1 - lr / lr_eff, one per decade the grid reaches.
        double lo = map.Rates[0], hi = map.Rates[^1] / (1 - map.Momenta[^1]);
        for (int k = (int)Math.Ceiling(Math.Log10(lo)); k <= (int)Math.Floor(Math.Log10(hi)); k++)
        {
            double effective = Math.Pow(10, k);
            var xs = Enumerable.Range(0, 200).Select(i => x0 + (x1 - x0) * i / 199.0).Where(x => Math.Pow(10, x) <= effective).ToArray();
            var ys = xs.Select(x => 1 - Math.Pow(10, x) / effective).ToArray();
            var keep = ys.Select((y, i) => (y, i)).Where(p => p.y >= y0 && p.y <= y1).Select(p => p.i).ToArray();
            if (keep.Length < 2) continue;
            var line = plot.Add.ScatterLine(keep.Select(i => xs[i]).ToArray(), keep.Select(i => ys[i]).ToArray(), Colors.White);
            line.LinePattern = LinePattern.Dashed;
            line.LineWidth = 1;
            int middle = keep[keep.Length / 2];
            var label = plot.Add.Text($"lr/(1-m) = {LogAxis.Decade(k)}", xs[middle], ys[middle]);
            label.LabelFontColor = Colors.White;
            label.LabelFontSize = 11;
        }
        var chapter = plot.Add.Marker(Math.Log10(SweepMap.Chapter.Lr), SweepMap.Chapter.Momentum, MarkerShape.FilledDiamond, 12, Colors.Red);
        chapter.LegendText = "the chapter's point (lr 0.01, momentum 0.8)";
        if (map.Points.Cast<MapPoint>().Any(p => p.Diverged))
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = "diverged (half the seeds or more)", FillColor = DivergedColor, LineWidth = 0, MarkerShape = MarkerShape.FilledSquare, MarkerFillColor = DivergedColor });
        plot.Axes.Bottom.TickGenerator = LogAxis.DecadeTicks(x0, x1);
        plot.Axes.SetLimits(x0, x1, y0, y1);
        PlotFile.Save(plot, path, "The momentum landscape of the chapter's net", "learning rate (log scale)", "momentum", Alignment.LowerLeft);
    }

    /// <summary>
    /// Draws effective-lr.png, with section 5.2's walls for <paramref name="lambdaMax"/>, the sharpness measured along the
    /// chapter's run: plain SGD's lr = 2/lambda_max and, for each labelled momentum m, the effective lr
    /// 2(1 + m)/((1 - m) lambda_max), where heavy ball's lr reaches 2(1 + m)/lambda_max.
    /// </summary>
    public static void WriteEffectiveLr(string path, SweepMap map, double lambdaMax)
    {
        var plot = new Plot();
        var colormap = new ScottPlot.Colormaps.Viridis();
        int rows = map.Momenta.Length;
        // A legend entry for a handful of curves; the colour says the momentum of the others.
        var labelled = Enumerable.Range(0, Math.Min(rows, 6)).Select(i => rows == 1 ? 0 : (int)Math.Round(i * (rows - 1) / (double)Math.Min(rows - 1, 5))).ToHashSet();
        double yMin = double.PositiveInfinity, yMax = double.NegativeInfinity, xMin = double.PositiveInfinity, xMax = double.NegativeInfinity;
        for (int m = 0; m < rows; m++)
        {
            var points = Enumerable.Range(0, map.Rates.Length).Select(l => map.Points[m, l]).Where(p => p.Measured).ToArray();
            if (points.Length == 0) continue;
            var xs = points.Select(p => Math.Log10(p.EffectiveLr)).ToArray();
            var ys = points.Select(p => Math.Log10(p.MedianLoss)).ToArray();
            (xMin, xMax, yMin, yMax) = (Math.Min(xMin, xs.Min()), Math.Max(xMax, xs.Max()), Math.Min(yMin, ys.Min()), Math.Max(yMax, ys.Max()));
            var color = map.Momenta[m] == 0 ? Colors.Black : colormap.GetColor(rows == 1 ? 0 : m / (rows - 1.0));
            var line = points.Length == 1 ? (IHasLegendText)plot.Add.Marker(xs[0], ys[0], MarkerShape.FilledCircle, 6, color) : plot.Add.ScatterLine(xs, ys, color);
            if (line is ScottPlot.Plottables.Scatter scatter) scatter.LineWidth = map.Momenta[m] == 0 ? 3 : 1.5f;
            if (labelled.Contains(m)) line.LegendText = map.Momenta[m] == 0 ? "momentum 0 (plain SGD)" : $"momentum {map.Momenta[m].ToString("0.###", CultureInfo.InvariantCulture)}";
        }
        if (double.IsFinite(xMin) && lambdaMax > 0)
        {
            var sgdWall = plot.Add.VerticalLine(Math.Log10(2 / lambdaMax), 1.5f, Colors.Black, LinePattern.Dashed);
            sgdWall.LegendText = $"2/lambda_max = {(2 / lambdaMax).ToString("0.###", CultureInfo.InvariantCulture)} (lambda_max {lambdaMax.ToString("0.##", CultureInfo.InvariantCulture)}, the chapter's run)";
            bool first = true;
            foreach (int m in labelled.Where(m => map.Momenta[m] > 0))
            {
                double momentum = map.Momenta[m], wall = 2 * (1 + momentum) / ((1 - momentum) * lambdaMax);
                if (Math.Log10(wall) > xMax) continue;
                var line = plot.Add.VerticalLine(Math.Log10(wall), 1, colormap.GetColor(rows == 1 ? 0 : m / (rows - 1.0)), LinePattern.Dotted);
                if (first) line.LegendText = "dotted, each momentum's colour: 2(1 + m)/((1 - m) lambda_max)";
                first = false;
            }
        }
        if (double.IsFinite(xMin))
        {
            plot.Axes.Bottom.TickGenerator = LogAxis.DecadeTicks(xMin, xMax);
            plot.Axes.Left.TickGenerator = LogAxis.DecadeTicks(yMin, yMax);
            plot.Axes.SetLimitsX(xMin - 0.1, xMax + 0.1);
        }
        PlotFile.Save(plot, path, "Loss against the effective learning rate lr/(1 - momentum)", "lr/(1 - momentum) (log scale)",
            "last epoch's mean loss, median over seeds (log scale)", Alignment.UpperLeft);
    }

    /// <summary>The edges of cells centred on evenly spaced <paramref name="centres"/> (half a cell beyond each end; ±0.5 for one).</summary>
    private static (double, double) Edges(double[] centres)
    {
        double half = centres.Length > 1 ? (centres[^1] - centres[0]) / (centres.Length - 1) / 2 : 0.5 * Math.Max(Math.Abs(centres[0]) * 0.1, 0.05);
        return (centres[0] - half, centres[^1] + half);
    }
}
