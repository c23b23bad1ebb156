namespace TorchMomentum.Sweeps;

/// <summary>Which optimizers a best setting is chosen among.</summary>
public enum Family
{
    /// <summary>Momentum 0: plain SGD, tuned over lr.</summary>
    PlainSgd,

    /// <summary>Momentum above 0, tuned over lr and momentum.</summary>
    Momentum,
}

/// <summary>The best setting of one family at one batch size for one target: the fewest steps, median over seeds.</summary>
/// <param name="BatchSize">The batch size.</param>
/// <param name="Target">The full-data loss to reach.</param>
/// <param name="Family">Plain SGD or momentum.</param>
/// <param name="Steps">The median over seeds of the steps to the target (a seed that never reached it counts as infinity); infinite when no setting reached it in half its seeds.</param>
/// <param name="FewestSteps">The best setting's fastest seed (infinite when none reached).</param>
/// <param name="MostSteps">Its slowest seed (infinite when one did not reach).</param>
/// <param name="Lr">The best setting's learning rate (NaN when nothing reached).</param>
/// <param name="Momentum">Its momentum.</param>
/// <param name="OnGridEdge">Whether its lr is the grid's smallest or largest: the true best may lie outside the grid.</param>
public sealed record BestSetting(int BatchSize, double Target, Family Family, double Steps, double FewestSteps, double MostSteps, double Lr, double Momentum, bool OnGridEdge)
{
    /// <summary>lr / (1 - momentum) of the best setting (section 5.3).</summary>
    public double EffectiveLr => Theory.ConstantGradientVelocity.Limit(Lr, Momentum, g: 1);

    /// <summary>Whether a setting reached the target in at least half its seeds.</summary>
    public bool Reached => double.IsFinite(Steps);
}

/// <summary>
/// The batch-size study, read off a sweep's steps to targets as Shallue et al. 2019 and Zhang et al. 2019 measure
/// it: at every batch size and target, plain SGD's best (over lr, momentum 0) and momentum's best (over lr and
/// momentum above 0), a setting's steps being the median over its seeds; the speed-up, plain SGD's steps over
/// momentum's; and the critical batch size of each family, where its steps come to 20% above perfect scaling
/// (Zhang et al. 2025), perfect scaling being steps inversely proportional to the batch size from the smallest one.
/// </summary>
public sealed class ScalingStudy
{
    /// <summary>How far above perfect scaling the critical batch size is read: steps 20% above it (Zhang et al. 2025).</summary>
    public const double CriticalExcess = 1.2;

    /// <summary>
    /// <c>torchmomentum scaling</c>'s grid: 8 batch sizes from 1 to the full 1,000 samples, 16 learning rates from 0.01
    /// to 1 (plain SGD's best sits near its stability edge, 2/lambda_max, about 0.3 on this net, so the grid is finest
    /// there rather than spread over rates too small to reach a target in the budget), 8 momenta from 0 to 0.9, 4 seeds,
    /// a budget of 1,000 steps, and three targets 0.01, 0.005 and 0.002 above the net's best full-data loss, about
    /// 0.0104 on the chapter's data (the noise floor is 0.01): a loose, a middling and a tight target.
    /// </summary>
    public static SweepGrid DefaultGrid { get; } = new()
    {
        LrMin = 0.01, LrMax = 1, LrCount = 16,
        MomentumMin = 0, MomentumMax = 0.9, MomentumCount = 8,
        Seeds = [1, 2, 3, 4],
        BatchSizes = [1, 3, 10, 32, 100, 200, 500, 1000],
        Targets = [0.0204, 0.0154, 0.0124],
        Steps = 1000,
    };

    /// <summary>Reads the study off a complete sweep with targets; <paramref name="results"/> holds every cell of <paramref name="grid"/> once.</summary>
    public ScalingStudy(SweepGrid grid, IReadOnlyList<CellResult> results)
    {
        if (grid.Targets.Count == 0) throw new ArgumentException("a scaling study needs a sweep with targets", nameof(grid));
        Grid = grid;
        var rates = grid.LearningRates();
        var best = new List<BestSetting>();
        foreach (var bySize in results.GroupBy(r => r.Cell.BatchSize).OrderBy(g => g.Key))
            for (int t = 0; t < grid.Targets.Count; t++)
                foreach (var family in new[] { Family.PlainSgd, Family.Momentum })
                {
                    var settings = bySize.Where(r => (r.Cell.Momentum == 0) == (family == Family.PlainSgd))
                        .GroupBy(r => (r.Cell.Lr, r.Cell.Momentum))
                        .Select(g =>
                        {
                            var steps = g.Select(r => r.StepsToTargets[t] is { } s ? (double)s : double.PositiveInfinity).Order().ToArray();
                            return (g.Key.Lr, g.Key.Momentum, Median: Median(steps), Fewest: steps[0], Most: steps[^1]);
                        })
                        // Fewest median steps; ties to the faster slowest seed, then the smaller lr and momentum.
                        .OrderBy(s => s.Median).ThenBy(s => s.Most).ThenBy(s => s.Lr).ThenBy(s => s.Momentum).ToArray();
                    if (settings.Length == 0) continue; // the grid has no cell of this family
                    var top = settings[0];
                    best.Add(double.IsFinite(top.Median)
                        ? new BestSetting(bySize.Key, grid.Targets[t], family, top.Median, top.Fewest, top.Most, top.Lr, top.Momentum, top.Lr == rates[0] || top.Lr == rates[^1])
                        : new BestSetting(bySize.Key, grid.Targets[t], family, double.PositiveInfinity, top.Fewest, double.PositiveInfinity, double.NaN, double.NaN, false));
                }
        Best = best;
    }

    /// <summary>The sweep's grid.</summary>
    public SweepGrid Grid { get; }

    /// <summary>Every (batch size, target, family)'s best setting, batch sizes ascending.</summary>
    public IReadOnlyList<BestSetting> Best { get; }

    /// <summary>The families the grid has (plain SGD needs momentum 0 in it; momentum a momentum above 0).</summary>
    public IEnumerable<Family> Families => Best.Select(b => b.Family).Distinct();

    /// <summary>One family's best settings for one target, batch sizes ascending.</summary>
    public IReadOnlyList<BestSetting> Curve(Family family, double target) => Best.Where(b => b.Family == family && b.Target == target).ToArray();

    /// <summary>Plain SGD's best steps over momentum's at a batch size and target: above 1 momentum needs fewer; NaN when either never reached it.</summary>
    public double SpeedUp(int batchSize, double target)
    {
        var sgd = Best.FirstOrDefault(b => b.Family == Family.PlainSgd && b.BatchSize == batchSize && b.Target == target);
        var momentum = Best.FirstOrDefault(b => b.Family == Family.Momentum && b.BatchSize == batchSize && b.Target == target);
        return sgd is { Reached: true } && momentum is { Reached: true } ? sgd.Steps / momentum.Steps : double.NaN;
    }

    /// <summary>
    /// Perfect scaling from the smallest batch size whose best reached the target: steps S(B0) B0 / B, each doubling
    /// of the batch halving the steps (a slope of -1 in log-log). Null when nothing reached it.
    /// </summary>
    public (int BatchSize, double Steps)? PerfectScalingAnchor(Family family, double target) =>
        Curve(family, target).FirstOrDefault(b => b.Reached) is { } first ? (first.BatchSize, first.Steps) : null;

    /// <summary>
    /// The critical batch size (Zhang et al. 2025): where the family's best steps first come to
    /// <see cref="CriticalExcess"/> times perfect scaling, interpolated in log-log between the measured batch sizes.
    /// Null when the measured curve never departs that far (or nothing reached the target).
    /// </summary>
    public double? CriticalBatchSize(Family family, double target)
    {
        if (PerfectScalingAnchor(family, target) is not { } anchor) return null;
        double Ratio(BestSetting b) => b.Steps * b.BatchSize / (anchor.Steps * anchor.BatchSize);
        var curve = Curve(family, target).Where(b => b.BatchSize >= anchor.BatchSize).ToArray();
        for (int i = 1; i < curve.Length; i++)
        {
            double after = Ratio(curve[i]);
            if (after < CriticalExcess) continue;
            double before = Ratio(curve[i - 1]);
            if (!double.IsFinite(after)) return curve[i].BatchSize;
            // log r is taken as linear in log B between the two batch sizes.
            double fraction = (Math.Log(CriticalExcess) - Math.Log(before)) / (Math.Log(after) - Math.Log(before));
            return Math.Exp(Math.Log(curve[i - 1].BatchSize) + fraction * (Math.Log(curve[i].BatchSize) - Math.Log(curve[i - 1].BatchSize)));
        }
        return null;
    }

    /// <summary>
    /// The gradient noise scale B_noise (<see cref="GradientNoiseScale"/>) along each family's run: its best setting for
    /// the tightest target at the largest batch size, the grid's first seed, measured where the run first reaches each
    /// target. Trains one net per family, in a second or so. A family none of whose settings reached the tightest
    /// target there is measured along the best for the loosest it reached, or left out.
    /// </summary>
    public IReadOnlyDictionary<Family, IReadOnlyList<NoiseScaleAt>> NoiseScales()
    {
        int largest = Grid.CellBatchSizes.Max();
        var scales = new Dictionary<Family, IReadOnlyList<NoiseScaleAt>>();
        foreach (var family in Families)
        {
            var best = Grid.Targets.Order().Select(t => Curve(family, t).FirstOrDefault(b => b.BatchSize == largest)).FirstOrDefault(b => b is { Reached: true });
            if (best is null) continue;
            var settings = Grid.SettingsOf(largest) with { Seed = Grid.Seeds[0], LearningRate = best.Lr, Momentum = best.Momentum };
            scales[family] = GradientNoiseScale.AlongRun(settings, Grid.StepBudget(largest), Grid.Targets);
        }
        return scales;
    }

    /// <summary>
    /// The noisy quadratic model of the net (<see cref="Curvature.QuadraticModelOfNet"/>) and what it predicts for this
    /// grid: built at the point momentum's best full-batch setting for the tightest target reaches after the grid's
    /// step budget (the grid's first seed), for runs from that seed's initial weights. Null when no momentum setting
    /// reached a target at the largest batch size. Trains one net and iterates the model over the grid: a second or two.
    /// </summary>
    public (Curvature.QuadraticModelOfNet Model, IReadOnlyList<BestSetting> Predicted)? QuadraticModel()
    {
        int largest = Grid.CellBatchSizes.Max();
        var best = Grid.Targets.Order().Select(t => Curve(Family.Momentum, t).FirstOrDefault(b => b.BatchSize == largest)).FirstOrDefault(b => b is { Reached: true });
        if (best is null) return null;
        var settings = Grid.SettingsOf(largest) with { Seed = Grid.Seeds[0], LearningRate = best.Lr, Momentum = best.Momentum };
        var model = Curvature.QuadraticModelOfNet.Fit(settings with { Epochs = (Grid.StepBudget(largest) + settings.StepsPerEpoch - 1) / settings.StepsPerEpoch });
        return (model, model.Predict(Grid));
    }

    private static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}
