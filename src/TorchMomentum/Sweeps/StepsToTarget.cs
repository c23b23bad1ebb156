namespace TorchMomentum.Sweeps;

/// <summary>How a study counts the steps to a target (Shallue et al. 2019 count the first touch; a touch at small batch is often a noise dip).</summary>
public enum Measure
{
    /// <summary>The first step t whose full-data loss stays at or below the target through t + <see cref="StepsToTarget.Window"/>(t): an arrival, the study's main measure.</summary>
    Sustained,

    /// <summary>The first step whose full-data loss is at or below the target: a first touch.</summary>
    First,

    /// <summary>The first step at which the mean over seeds of the full-data loss is at or below the target: what the noisy quadratic model predicts.</summary>
    Mean,
}

/// <summary>
/// Steps to a target on a run's full-data loss curve (the loss after steps 1, 2, ...), by each <see cref="Measure"/>:
/// the one place their rules are written, for the engines (step by step, as the loss comes), the study and any curve
/// at hand.
/// </summary>
public static class StepsToTarget
{
    /// <summary>
    /// How long a hit at step t must last to count as an arrival: max(20, ceil(t / 10)) more steps, so a late hit
    /// holds for a tenth of the time it took, an early one for at least 20 steps.
    /// </summary>
    public static int Window(int t) => Math.Max(20, (t + 9) / 10);

    /// <summary>The first and the sustained hit of one target, followed step by step.</summary>
    public struct Hits
    {
        private int runStart; // the first step of the current run at or below the target; 0 outside one

        /// <summary>The first step at or below the target; null until then.</summary>
        public int? First { get; private set; }

        /// <summary>The first step from which the loss stayed at or below the target for its <see cref="Window"/>; null until then.</summary>
        public int? Sustained { get; private set; }

        /// <summary>
        /// Takes the full-data loss after <paramref name="steps"/> steps (1, 2, ... in turn). A sustained hit is always
        /// the start of a run: a later start within a run that breaks early has a window that ends later still. A
        /// window past the budget is never seen, so such a hit does not count.
        /// </summary>
        public void Observe(int steps, double loss, double target)
        {
            if (!(loss <= target))
            {
                runStart = 0; // NaN included: a diverged run is above every target
                return;
            }
            if (runStart == 0) runStart = steps;
            First ??= steps;
            if (Sustained is null && steps - runStart >= Window(runStart)) Sustained = runStart;
        }
    }

    /// <summary>The first touch and the sustained hit of <paramref name="target"/> on a whole curve (index i: the loss after i + 1 steps; its length the budget).</summary>
    public static (int? First, int? Sustained) Of(ReadOnlySpan<double> curve, double target)
    {
        var hits = new Hits();
        for (int i = 0; i < curve.Length; i++) hits.Observe(i + 1, curve[i], target);
        return (hits.First, hits.Sustained);
    }

    /// <summary>
    /// <see cref="Measure.Mean"/>: the first step at which the mean of <paramref name="curves"/> (each seed's loss
    /// after every step, above its floor for an excess target), seed i taken <paramref name="counts"/>[i] times, is at
    /// or below <paramref name="target"/>; infinity when it never is. A curve that is infinite (diverged) keeps the mean above.
    /// </summary>
    public static double MeanArrival(IReadOnlyList<float[]> curves, ReadOnlySpan<int> counts, double target) => MeanArrival(curves, counts, target, 0);

    /// <summary>
    /// <see cref="MeanArrival(IReadOnlyList{float[]}, ReadOnlySpan{int}, double)"/> read from step index
    /// <paramref name="from"/> on: the caller knows no weighting of these curves arrives before it
    /// (<see cref="NoMeanArrivesBefore"/>).
    /// </summary>
    public static double MeanArrival(IReadOnlyList<float[]> curves, ReadOnlySpan<int> counts, double target, int from)
    {
        // A block of steps at a time: every curve's weighted loss added into the block's sums, in the curves' order
        // (each step's sum is the same additions as one step at a time, so the same bits), a vector of steps per
        // operation, then the block read for the first arrival. A bootstrap asks this thousands of times a study: one
        // step at a time, across the curves, it was 5.6 of the default study's 8 s of reading.
        // Blocks grow from 32 steps to 256: read from where a mean can first arrive, most arrive within a few dozen steps.
        const int Block = 256;
        int total = 0;
        foreach (int c in counts) total += c;
        int length = curves[0].Length, lanes = System.Numerics.Vector<double>.Count;
        Span<double> sums = stackalloc double[Block];
        for (int start = from, block = 32; start < length; start += block, block = Math.Min(Block, 2 * block))
        {
            int n = Math.Min(block, length - start), whole = n - n % (2 * lanes);
            sums[..n].Clear();
            for (int i = 0; i < curves.Count; i++)
            {
                if (counts[i] == 0) continue;
                double weight = counts[i];
                var w = new System.Numerics.Vector<double>(weight);
                var curve = curves[i].AsSpan(start, n);
                var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(curve[..whole]);
                var doubles = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(sums[..whole]);
                for (int k = 0; k < floats.Length; k++)
                {
                    System.Numerics.Vector.Widen(floats[k], out var low, out var high);
                    doubles[2 * k] += w * low;
                    doubles[2 * k + 1] += w * high;
                }
                for (int j = whole; j < n; j++) sums[j] += weight * curve[j];
            }
            for (int j = 0; j < n; j++)
                if (sums[j] / total <= target) return start + j + 1;
        }
        return double.PositiveInfinity;
    }

    /// <summary>
    /// A step index before which no mean of these curves, whatever the counts, reaches <paramref name="target"/>: a
    /// mean is at least the least of the curves it weighs, so while every finite curve is above the target (by more
    /// than rounding, 1e-9 of it), no mean arrives (a NaN curve makes the mean NaN, which arrives nowhere). A bootstrap
    /// reads the same curves thousands of times; their early steps, far above any target, it then reads once.
    /// </summary>
    public static int NoMeanArrivesBefore(IReadOnlyList<float[]> curves, double target)
    {
        for (int s = 0; s < curves[0].Length; s++)
            foreach (var curve in curves)
                if (curve[s] <= target + 1e-9 * (Math.Abs(target) + Math.Abs(curve[s]))) return s;
        return curves[0].Length;
    }
}
