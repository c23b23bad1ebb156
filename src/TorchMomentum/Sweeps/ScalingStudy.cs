namespace TorchMomentum.Sweeps;

/// <summary>Which optimizers a best setting is chosen among.</summary>
public enum Family
{
    /// <summary>Momentum 0: plain SGD, tuned over lr.</summary>
    PlainSgd,

    /// <summary>Momentum above 0, tuned over lr and momentum.</summary>
    Momentum,
}

/// <summary>How a held-out speed-up reads: its 95% interval against the 10% margin (<see cref="ScalingStudy.Margin"/>).</summary>
public enum Verdict
{
    /// <summary>Momentum is faster: the interval excludes 1 and the speed-up is at least 1.1.</summary>
    Win,

    /// <summary>Neither is faster by more than the margin: the interval lies inside [1/1.1, 1.1].</summary>
    Tie,

    /// <summary>Plain SGD is faster: the interval excludes 1 and the speed-up is at most 1/1.1.</summary>
    Loss,

    /// <summary>The interval says none of the above.</summary>
    Inconclusive,

    /// <summary>Neither family reaches the target within the budget.</summary>
    Unreached,
}

/// <summary>
/// One family's result at one label noise, measure, batch size and target, on the held-out seeds.
/// </summary>
/// <param name="LabelNoise">sigma of the data.</param>
/// <param name="Measure">How steps are counted.</param>
/// <param name="BatchSize">The batch size.</param>
/// <param name="Target">The target: an excess over each seed's noise floor (<see cref="SweepGrid.Excess"/>), or an absolute loss.</param>
/// <param name="Family">Plain SGD or momentum.</param>
/// <param name="Lr">The learning rate the median study chose (NaN when none reached the target on its tuning seeds).</param>
/// <param name="Momentum">Its momentum.</param>
/// <param name="OnEdge">Whether it lies on the edge of the family's menu (its smallest or largest lr, or momentum): the best may lie outside.</param>
/// <param name="Steps">The median over studies of each study's held-out steps (for <see cref="Measure.Mean"/> the step of the held-out mean; otherwise the median over held-out seeds, a seed that never arrived counting as infinity).</param>
/// <param name="FewestSteps">The fewest of the studies' held-out steps.</param>
/// <param name="MostSteps">The most of them.</param>
/// <param name="SpeedUp">On momentum's row: the median over studies of plain SGD's held-out steps over momentum's; NaN on plain SGD's.</param>
/// <param name="SpeedUpLow">Its paired bootstrap 95% interval's lower end (<see cref="PairedBootstrap"/>).</param>
/// <param name="SpeedUpHigh">Its upper end.</param>
/// <param name="Verdict">What the interval says, on momentum's row; null on plain SGD's.</param>
public sealed record StudyRow(double LabelNoise, Measure Measure, int BatchSize, double Target, Family Family, double Lr, double Momentum, bool OnEdge,
    double Steps, double FewestSteps, double MostSteps, double SpeedUp, double SpeedUpLow, double SpeedUpHigh, Verdict? Verdict)
{
    /// <summary>lr / (1 - momentum) of the chosen setting (section 5.3).</summary>
    public double EffectiveLr => Theory.ConstantGradientVelocity.Limit(Lr, Momentum, g: 1);

    /// <summary>Whether the family reached the target on the held-out seeds (a finite median).</summary>
    public bool Reached => double.IsFinite(Steps);
}

/// <summary>What one study chose for one family, and what its choice did on the tuning and the held-out seeds.</summary>
/// <param name="LabelNoise">sigma of the data.</param>
/// <param name="Measure">How steps are counted.</param>
/// <param name="BatchSize">The batch size.</param>
/// <param name="Target">The target (as <see cref="StudyRow.Target"/>).</param>
/// <param name="Family">Plain SGD or momentum.</param>
/// <param name="Study">Which study, from 0: its tuning seeds are the grid's seeds from Study x their share.</param>
/// <param name="Lr">Its choice's learning rate.</param>
/// <param name="Momentum">Its choice's momentum.</param>
/// <param name="TuneSteps">The steps that chose it, on the study's tuning seeds.</param>
/// <param name="HeldOutSteps">Its steps on the held-out seeds.</param>
public sealed record StudyChoice(double LabelNoise, Measure Measure, int BatchSize, double Target, Family Family, int Study, double Lr, double Momentum, double TuneSteps, double HeldOutSteps);

/// <summary>The best setting the noisy quadratic model predicts for a family at a batch size and target.</summary>
/// <param name="BatchSize">The batch size.</param>
/// <param name="Target">The target (as <see cref="StudyRow.Target"/>).</param>
/// <param name="Family">Plain SGD or momentum.</param>
/// <param name="Steps">The fewest steps after which the model's expected loss is at or below the target, over the family's menu; infinite when none.</param>
/// <param name="Lr">That setting's learning rate (NaN when none).</param>
/// <param name="Momentum">Its momentum.</param>
public sealed record ModelPrediction(int BatchSize, double Target, Family Family, double Steps, double Lr, double Momentum)
{
    /// <summary>Whether the model's best reaches the target within the budget.</summary>
    public bool Reached => double.IsFinite(Steps);
}

/// <summary>
/// The batch-size study, read off a sweep with targets under a protocol a sceptic accepts (AlgoPerf's rules; Shallue et
/// al. 2019; Sivaprasad et al. 2020): at every label noise, batch size, target and <see cref="Measure"/>, each
/// <see cref="Grid"/>'s study picks each family's setting with the fewest median steps on its own tuning seeds, from
/// menus of equal size; the choice is then counted on held-out seeds that chose nothing. What is reported is the
/// median over studies, and the speed-up (plain SGD's held-out steps over momentum's) with a paired bootstrap
/// interval over the held-out seeds and a <see cref="Verdict"/>. The critical batch size of each family is where its
/// steps come to 20% above perfect scaling (Zhang et al. 2025), perfect scaling being steps inversely proportional to
/// the batch size from the smallest one.
/// </summary>
public sealed class ScalingStudy
{
    /// <summary>How far above perfect scaling the critical batch size is read: steps 20% above it (Zhang et al. 2025).</summary>
    public const double CriticalExcess = 1.2;

    /// <summary>The equivalence margin of a verdict: a speed-up within 10% either way is no difference worth the name.</summary>
    public const double Margin = 1.1;

    /// <summary>
    /// <c>torchmomentum scaling</c>'s grid: 8 batch sizes from 1 to the full 1,000 samples; equal menus of 16 settings
    /// a family, learning rates from 0.01 to 1 (plain SGD's best sits near its stability edge, 2/lambda_max, about 0.3 on
    /// this net) and momenta from 0 to 0.9 (1 - m log-spaced, <see cref="SweepGrid.Settings"/>); 3 studies of 8 tuning
    /// seeds (1 to 24) and 32 held-out seeds (101 to 132); a budget of 1,000 steps; targets 0.01, 0.005 and 0.002 above
    /// each seed's noise floor (a loose, a middling and a tight target: the net's best full-data loss is about 0.0004
    /// above the floor on the chapter's data).
    /// </summary>
    public static SweepGrid DefaultGrid { get; } = new()
    {
        LrMin = 0.01, LrMax = 1, LrCount = 16,
        MomentumMin = 0, MomentumMax = 0.9, MomentumCount = 1,
        Menu = SweepMenu.Equal,
        Seeds = [.. Enumerable.Range(1, 24).Select(s => (long)s)],
        EvalSeeds = [.. Enumerable.Range(101, 32).Select(s => (long)s)],
        Studies = 3,
        BatchSizes = [1, 3, 10, 32, 100, 200, 500, 1000],
        Excess = [0.01, 0.005, 0.002],
        Steps = 1000,
    };

    private readonly (double Lr, double Momentum)[] settings;

    /// <summary>Reads the study off a complete sweep with targets; <paramref name="results"/> holds every cell of <paramref name="grid"/> once, in id order.</summary>
    public ScalingStudy(SweepGrid grid, IReadOnlyList<CellResult> results)
    {
        if (!grid.MeasuresSteps) throw new ArgumentException("a scaling study needs a sweep with targets", nameof(grid));
        if (results.Count != grid.CellCount || results.Where((r, i) => r.Cell.Id != i).Any())
            throw new ArgumentException($"a scaling study needs every one of the grid's {grid.CellCount} cells once, in id order (got {results.Count})", nameof(results));
        Grid = grid;
        settings = grid.Settings();
        var present = new[] { Family.PlainSgd, Family.Momentum }.Where(f => settings.Any(s => FamilyOf(s.Momentum) == f)).ToArray();
        var problems = (from n in Enumerable.Range(0, grid.NoiseLevels.Count)
                        from b in Enumerable.Range(0, grid.CellBatchSizes.Count)
                        from t in Enumerable.Range(0, grid.TargetNames.Count)
                        from m in Enum.GetValues<Measure>()
                        select (n, b, t, m)).ToArray();
        var answers = new (List<StudyRow> Rows, List<StudyChoice> Choices)[problems.Length];
        // Each problem draws its own resamples from the same seed: the answer does not depend on the order they are read in.
        Parallel.For(0, problems.Length, i => answers[i] = Read(results, present, problems[i].n, problems[i].b, problems[i].t, problems[i].m));
        Rows = [.. answers.SelectMany(a => a.Rows)];
        Choices = [.. answers.SelectMany(a => a.Choices)];
    }

    private static Family FamilyOf(double momentum) => momentum == 0 ? Family.PlainSgd : Family.Momentum;

    private (List<StudyRow>, List<StudyChoice>) Read(IReadOnlyList<CellResult> results, Family[] families, int n, int b, int t, Measure measure)
    {
        int seeds = Grid.CellSeeds.Count, batches = Grid.CellBatchSizes.Count, share = Grid.Seeds.Count / Grid.Studies, heldOut = Grid.EvalSeeds.Count;
        double noise = Grid.NoiseLevels[n], target = Grid.TargetNames[t];
        int batch = Grid.CellBatchSizes[b];
        CellResult At(int setting, int seed) => results[(int)((((long)n * seeds + seed) * batches + b) * settings.Length + setting)];
        // The steps of a setting on seeds from..from+count, each taken counts[i] times: the median, or the mean curve's arrival.
        double StepsOf(int setting, int from, ReadOnlySpan<int> counts)
        {
            if (measure == Measure.Mean) return MeanArrival(setting, from, counts);
            Span<double> each = stackalloc double[counts.Length];
            for (int i = 0; i < counts.Length; i++)
            {
                var r = At(setting, from + i);
                each[i] = (measure == Measure.Sustained ? r.SustainedSteps[t] : r.StepsToTargets[t]) is { } s ? s : double.PositiveInfinity;
            }
            return PairedBootstrap.Median(each, counts);
        }
        double MeanArrival(int setting, int from, ReadOnlySpan<int> counts)
        {
            var curves = new float[counts.Length][];
            for (int i = 0; i < counts.Length; i++) curves[i] = At(setting, from + i).Curve;
            return StepsToTarget.MeanArrival(curves, counts, target);
        }

        var rows = new List<StudyRow>();
        var choices = new List<StudyChoice>();
        var ones = Enumerable.Repeat(1, share).ToArray();
        // chosen[family][study]: the setting each study picked on its tuning seeds, and the steps that picked it.
        var chosen = families.ToDictionary(f => f, f => new (int Setting, double Steps)[Grid.Studies]);
        foreach (var family in families)
            for (int k = 0; k < Grid.Studies; k++)
            {
                // Fewest median steps; ties to the faster slowest tuning seed, then the smaller lr and momentum.
                var best = Enumerable.Range(0, settings.Length).Where(s => FamilyOf(settings[s].Momentum) == family)
                    .Select(s => (s, Steps: StepsOf(s, k * share, ones), Slowest: measure == Measure.Mean ? 0 : Enumerable.Range(0, share).Max(i => StepsOf(s, k * share + i, [1]))))
                    .OrderBy(c => c.Steps).ThenBy(c => c.Slowest).ThenBy(c => settings[c.s].Lr).ThenBy(c => settings[c.s].Momentum).First();
                chosen[family][k] = (best.s, best.Steps);
            }
        var all = Enumerable.Repeat(1, heldOut).ToArray();
        var perStudy = Enumerable.Repeat(1, Grid.Studies).ToArray();
        // A chosen setting's held-out steps for any counts of the held-out seeds, from what is read once a setting: its
        // seeds' steps sorted (the median's), or its curves and the step before which no mean of them arrives.
        var sortedHeldOut = new Dictionary<int, PairedBootstrap.SortedValues>();
        var heldOutCurves = new Dictionary<int, (float[][] Curves, int From)>();
        double HeldOutSteps(int setting, ReadOnlySpan<int> counts)
        {
            if (measure == Measure.Mean)
            {
                if (!heldOutCurves.TryGetValue(setting, out var read))
                {
                    var curves = Enumerable.Range(0, heldOut).Select(i => At(setting, Grid.Seeds.Count + i).Curve).ToArray();
                    heldOutCurves[setting] = read = (curves, StepsToTarget.NoMeanArrivesBefore(curves, target));
                }
                return StepsToTarget.MeanArrival(read.Curves, counts, target, read.From);
            }
            if (!sortedHeldOut.TryGetValue(setting, out var sorted))
            {
                var each = new double[heldOut];
                for (int i = 0; i < heldOut; i++)
                {
                    var r = At(setting, Grid.Seeds.Count + i);
                    each[i] = (measure == Measure.Sustained ? r.SustainedSteps[t] : r.StepsToTargets[t]) is { } s ? s : double.PositiveInfinity;
                }
                sortedHeldOut[setting] = sorted = new PairedBootstrap.SortedValues(each);
            }
            return sorted.Median(counts);
        }
        double HeldOut(Family family, int k, ReadOnlySpan<int> counts) => HeldOutSteps(chosen[family][k].Setting, counts);
        // The speed-up on every resample of the held-out seeds (the same draws every time): each chosen setting read on
        // all of them once, as studies often choose the same one; then each resample's median over the studies.
        (double Low, double High) SpeedUpInterval()
        {
            var draws = PairedBootstrap.Draws(heldOut);
            var onDraws = new Dictionary<int, double[]>();
            double[] Resampled(Family family, int k)
            {
                int setting = chosen[family][k].Setting;
                if (!onDraws.TryGetValue(setting, out var steps))
                {
                    onDraws[setting] = steps = new double[draws.Length];
                    for (int d = 0; d < draws.Length; d++) steps[d] = HeldOutSteps(setting, draws[d]);
                }
                return steps;
            }
            var values = new double[draws.Length];
            var ratios = new double[Grid.Studies];
            for (int d = 0; d < draws.Length; d++)
            {
                for (int k = 0; k < Grid.Studies; k++) ratios[k] = Ratio(Resampled(Family.PlainSgd, k)[d], Resampled(Family.Momentum, k)[d]);
                values[d] = PairedBootstrap.Median(ratios, perStudy);
            }
            return PairedBootstrap.Interval(values);
        }
        foreach (var family in families)
        {
            var held = Enumerable.Range(0, Grid.Studies).Select(k => HeldOut(family, k, all)).ToArray();
            for (int k = 0; k < Grid.Studies; k++)
            {
                var (lr, momentum) = settings[chosen[family][k].Setting];
                choices.Add(new StudyChoice(noise, measure, batch, target, family, k, lr, momentum, chosen[family][k].Steps, held[k]));
            }
            // The reported setting is the median study's (the lower middle for an even count).
            int middle = Enumerable.Range(0, Grid.Studies).OrderBy(k => held[k]).ThenBy(k => k).ElementAt((Grid.Studies - 1) / 2);
            // A study none of whose settings arrived on its tuning seeds chose nothing: its pick is only the first of a tie.
            var (lrChosen, momentumChosen) = double.IsFinite(chosen[family][middle].Steps) ? settings[chosen[family][middle].Setting] : (double.NaN, double.NaN);
            double steps = PairedBootstrap.Median(held, perStudy);
            bool edge = double.IsFinite(lrChosen) && OnEdge(family, chosen[family][middle].Setting);
            if (family == Family.PlainSgd || !families.Contains(Family.PlainSgd))
            {
                rows.Add(new StudyRow(noise, measure, batch, target, family, lrChosen, momentumChosen, edge, steps, held.Min(), held.Max(), double.NaN, double.NaN, double.NaN, null));
                continue;
            }
            var ratiosOnAll = new double[Grid.Studies];
            for (int k = 0; k < Grid.Studies; k++) ratiosOnAll[k] = Ratio(HeldOut(Family.PlainSgd, k, all), HeldOut(Family.Momentum, k, all));
            double sgd = rows[0].Steps, speedUp = PairedBootstrap.Median(ratiosOnAll, perStudy);
            var (low, high) = SpeedUpInterval();
            var verdict = !double.IsFinite(sgd) && !double.IsFinite(steps) ? Verdict.Unreached
                : low > 1 && speedUp >= Margin ? Verdict.Win
                : high < 1 && speedUp <= 1 / Margin ? Verdict.Loss
                : low >= 1 / Margin && high <= Margin ? Verdict.Tie
                : Verdict.Inconclusive;
            rows.Add(new StudyRow(noise, measure, batch, target, family, lrChosen, momentumChosen, edge, steps, held.Min(), held.Max(), speedUp, low, high, verdict));
        }
        return (rows, choices);
    }

    /// <summary>Plain SGD's steps over momentum's; two that never arrive count as equal (1): neither is faster within the budget.</summary>
    private static double Ratio(double sgd, double momentum) => double.IsPositiveInfinity(sgd) && double.IsPositiveInfinity(momentum) ? 1 : sgd / momentum;

    private bool OnEdge(Family family, int setting)
    {
        var menu = settings.Where(s => FamilyOf(s.Momentum) == family).ToArray();
        var (lr, momentum) = settings[setting];
        return lr == menu.Min(s => s.Lr) || lr == menu.Max(s => s.Lr)
            || (family == Family.Momentum && (momentum == menu.Min(s => s.Momentum) || momentum == menu.Max(s => s.Momentum)));
    }

    /// <summary>The sweep's grid.</summary>
    public SweepGrid Grid { get; }

    /// <summary>Every (label noise, measure, batch size, target, family)'s held-out result, batch sizes ascending within each.</summary>
    public IReadOnlyList<StudyRow> Rows { get; }

    /// <summary>What every study chose, and how its choice did.</summary>
    public IReadOnlyList<StudyChoice> Choices { get; }

    /// <summary>The families the grid has (plain SGD needs momentum 0 in it; momentum a momentum above 0).</summary>
    public IEnumerable<Family> Families => Rows.Select(b => b.Family).Distinct();

    /// <summary>How many settings each family chose among.</summary>
    public IReadOnlyDictionary<Family, int> MenuSizes => Families.ToDictionary(f => f, f => settings.Count(s => FamilyOf(s.Momentum) == f));

    /// <summary>One family's results by one measure for one target at one label noise, batch sizes ascending.</summary>
    public IReadOnlyList<StudyRow> Curve(double labelNoise, Measure measure, Family family, double target) =>
        Rows.Where(r => r.LabelNoise == labelNoise && r.Measure == measure && r.Family == family && r.Target == target).OrderBy(r => r.BatchSize).ToArray();

    /// <summary>Momentum's row (with the speed-up, its interval and verdict) at one problem; null when the grid has either family missing.</summary>
    public StudyRow? Comparison(double labelNoise, Measure measure, int batchSize, double target) =>
        Families.Count() < 2 ? null : Rows.FirstOrDefault(r => r.LabelNoise == labelNoise && r.Measure == measure && r.BatchSize == batchSize && r.Target == target && r.Family == Family.Momentum);

    /// <summary>
    /// Perfect scaling from the smallest batch size whose best reached the target: steps S(B0) B0 / B, each doubling
    /// of the batch halving the steps (a slope of -1 in log-log). Null when nothing reached it.
    /// </summary>
    public (int BatchSize, double Steps)? PerfectScalingAnchor(double labelNoise, Family family, double target) =>
        Curve(labelNoise, Measure.Sustained, family, target).FirstOrDefault(b => b.Reached) is { } first ? (first.BatchSize, first.Steps) : null;

    /// <summary>
    /// The critical batch size (Zhang et al. 2025), by the sustained measure: where the family's held-out steps first come to
    /// <see cref="CriticalExcess"/> times perfect scaling, interpolated in log-log between the measured batch sizes.
    /// Null when the measured curve never departs that far (or nothing reached the target).
    /// </summary>
    public double? CriticalBatchSize(double labelNoise, Family family, double target)
    {
        if (PerfectScalingAnchor(labelNoise, family, target) is not { } anchor) return null;
        double Ratio(StudyRow b) => b.Steps * b.BatchSize / (anchor.Steps * anchor.BatchSize);
        var curve = Curve(labelNoise, Measure.Sustained, family, target).Where(b => b.BatchSize >= anchor.BatchSize).ToArray();
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
    /// The gradient noise scale B_noise (<see cref="GradientNoiseScale"/>) along each family's run at label noise
    /// <paramref name="labelNoise"/>: its held-out choice (sustained measure) for the tightest target at the largest
    /// batch size, the first tuning seed, measured where the run first reaches each target. Trains one net per family,
    /// in a second or so. A family that did not reach the tightest target there is measured along its choice for the
    /// tightest target it did reach (the targets in ascending order), or left out.
    /// </summary>
    public IReadOnlyDictionary<Family, IReadOnlyList<NoiseScaleAt>> NoiseScales(double labelNoise)
    {
        int largest = Grid.CellBatchSizes.Max();
        var scales = new Dictionary<Family, IReadOnlyList<NoiseScaleAt>>();
        foreach (var family in Families)
        {
            if (ChoiceAtLargest(labelNoise, family) is not { } best) continue;
            var settings = Grid.SettingsOf(largest) with { Seed = Grid.Seeds[0], LabelNoise = labelNoise, LearningRate = best.Lr, Momentum = best.Momentum };
            scales[family] = GradientNoiseScale.AlongRun(settings, Grid.StepBudget(largest), Grid);
        }
        return scales;
    }

    private StudyRow? ChoiceAtLargest(double labelNoise, Family family) =>
        Grid.TargetNames.Order().Select(t => Curve(labelNoise, Measure.Sustained, family, t).FirstOrDefault(b => b.BatchSize == Grid.CellBatchSizes.Max()))
            .FirstOrDefault(b => b is { Reached: true });

    /// <summary>
    /// The noisy quadratic model of the net (<see cref="Curvature.QuadraticModelOfNet"/>) at label noise
    /// <paramref name="labelNoise"/> and what it predicts for this grid's menus: built at the point momentum's
    /// full-batch choice for the tightest target reaches after the grid's step budget (the first tuning seed), for runs
    /// from that seed's initial weights. Null when momentum reached no target at the largest batch size. It predicts
    /// the expected loss, so the study's <see cref="Measure.Mean"/> is what it is scored against. Trains one net and
    /// iterates the model over the menus: a second or two.
    /// </summary>
    public (Curvature.QuadraticModelOfNet Model, IReadOnlyList<ModelPrediction> Predicted)? QuadraticModel(double labelNoise)
    {
        if (ChoiceAtLargest(labelNoise, Family.Momentum) is not { } best) return null;
        int largest = Grid.CellBatchSizes.Max();
        var settings = Grid.SettingsOf(largest) with { Seed = Grid.Seeds[0], LabelNoise = labelNoise, LearningRate = best.Lr, Momentum = best.Momentum };
        var model = Curvature.QuadraticModelOfNet.Fit(settings with { Epochs = (Grid.StepBudget(largest) + settings.StepsPerEpoch - 1) / settings.StepsPerEpoch });
        return (model, Predict(model, Grid));
    }

    /// <summary>
    /// The steps to each target <paramref name="model"/> predicts at each of the grid's batch sizes, for plain SGD (momentum 0) and
    /// momentum (above 0), each its best over its menu (<see cref="SweepGrid.Settings"/>), within the grid's step
    /// budget; targets as excesses are taken above the model's own data's noise floor.
    /// </summary>
    public static IReadOnlyList<ModelPrediction> Predict(Curvature.QuadraticModelOfNet model, SweepGrid grid)
    {
        var settings = grid.Settings();
        var targets = grid.TargetsAbove(model.Floor);
        var best = new List<ModelPrediction>();
        foreach (int batch in grid.CellBatchSizes.Order())
        {
            int budget = grid.StepBudget(batch);
            // steps[s, t]: each setting's predicted steps to each target.
            var steps = new double[settings.Length, targets.Length];
            for (int s = 0; s < settings.Length; s++)
            {
                var losses = Theory.NoisyQuadraticModel.ExpectedLoss(model.Directions, model.Minimum, settings[s].Lr, settings[s].Momentum, batch, model.Samples, budget);
                for (int t = 0; t < targets.Length; t++)
                {
                    int at = Array.FindIndex(losses, v => v <= targets[t]);
                    steps[s, t] = at < 0 ? double.PositiveInfinity : at + 1;
                }
            }
            for (int t = 0; t < targets.Length; t++)
                foreach (var family in new[] { Family.PlainSgd, Family.Momentum })
                {
                    var menu = Enumerable.Range(0, settings.Length).Where(s => (settings[s].Momentum == 0) == (family == Family.PlainSgd)).ToArray();
                    if (menu.Length == 0) continue;
                    int top = menu.OrderBy(s => steps[s, t]).ThenBy(s => settings[s].Lr).ThenBy(s => settings[s].Momentum).First();
                    best.Add(double.IsFinite(steps[top, t])
                        ? new ModelPrediction(batch, grid.TargetNames[t], family, steps[top, t], settings[top].Lr, settings[top].Momentum)
                        : new ModelPrediction(batch, grid.TargetNames[t], family, double.PositiveInfinity, double.NaN, double.NaN));
                }
        }
        return best;
    }

}
