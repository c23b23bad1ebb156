namespace TorchMomentum.Model;

/// <summary>
/// The full-data loss of the chapter's net, the mean squared error over all samples (the objective SGD minimises,
/// not one mini-batch's share of it), taken in float64 without a pass over the samples. That makes "steps to a
/// target loss" affordable after every step of thousands of cells: the batch-size study's measure (Shallue et al.
/// 2019; McCandlish et al. 2018).
/// </summary>
/// <remarks>
/// Why no pass is needed: the net is 1 -> hidden -> 1 with a relu (section 5.5.1), so its output
/// f(x) = b2 + sum_j w2_j relu(w1_j x + b1_j) is a straight line a x + c between the hidden units' kinks
/// t_j = -b1_j / w1_j. Over the samples of one such piece the squared error sums to
/// <code>
///   sum (a x + c - y)^2 = a^2 Sxx + 2 a c Sx + c^2 n - 2 a Sxy - 2 c Sy + Syy
/// </code>
/// with the piece's sums of 1, x, x^2, y, x y and y^2, which are differences of prefix sums over the samples sorted
/// by x. A net costs a sort of its kinks and a binary search each: about hidden log(samples) operations instead of
/// samples x hidden. A sample exactly at a kink has z = 0 there, so either piece gives it the same value. In float64
/// the sums cancel to about 1e-13 of the loss on the chapter's data (ScalingStudyTests.The_full_data_loss_equals_a_pass_over_every_sample holds it to a direct pass).
/// </remarks>
public sealed class FullDataLoss
{
    private readonly double[] x;
    // Prefix sums over the samples sorted by x: element i sums samples 0 to i - 1.
    private readonly double[] sx, sxx, sy, sxy, syy;

    /// <summary>The loss over these samples (inputs and targets, any order).</summary>
    public FullDataLoss(ReadOnlySpan<double> inputs, ReadOnlySpan<double> targets)
    {
        if (inputs.Length != targets.Length || inputs.Length == 0)
            throw new ArgumentException($"inputs and targets must be as many, at least one (got {inputs.Length} and {targets.Length})");
        int n = inputs.Length;
        x = inputs.ToArray();
        var y = targets.ToArray();
        Array.Sort(x, y);
        (sx, sxx, sy, sxy, syy) = (new double[n + 1], new double[n + 1], new double[n + 1], new double[n + 1], new double[n + 1]);
        for (int i = 0; i < n; i++)
        {
            sx[i + 1] = sx[i] + x[i];
            sxx[i + 1] = sxx[i] + x[i] * x[i];
            sy[i + 1] = sy[i] + y[i];
            sxy[i + 1] = sxy[i] + x[i] * y[i];
            syy[i + 1] = syy[i] + y[i] * y[i];
        }
    }

    /// <summary>
    /// The mean squared error over all samples of the net with these weights (hidden.weight, hidden.bias,
    /// predict.weight as rows of the hidden size; predict.bias). NaN or infinite when a weight is.
    /// </summary>
    /// <param name="w1">hidden.weight, one per hidden unit.</param>
    /// <param name="b1">hidden.bias.</param>
    /// <param name="w2">predict.weight.</param>
    /// <param name="b2">predict.bias.</param>
    /// <param name="scratch">Room for 2 x hidden numbers, reused between calls (nothing is allocated).</param>
    public double Of(ReadOnlySpan<double> w1, ReadOnlySpan<double> b1, ReadOnlySpan<double> w2, double b2, Span<double> scratch)
    {
        int hidden = w1.Length;
        var kinks = scratch[..hidden];
        var units = scratch.Slice(hidden, hidden);
        // Left of every kink (x -> -inf) the units with w1 < 0 are on; a unit with w1 = 0 is on everywhere or nowhere.
        double a = 0, c = b2;
        int count = 0;
        for (int j = 0; j < hidden; j++)
        {
            if (w1[j] < 0 || (w1[j] == 0 && b1[j] > 0))
            {
                a += w2[j] * w1[j];
                c += w2[j] * b1[j];
            }
            if (w1[j] != 0)
            {
                kinks[count] = -b1[j] / w1[j];
                units[count++] = j;
            }
            else if (!double.IsFinite(b1[j] + w2[j])) return double.NaN;
        }
        if (!double.IsFinite(a + c)) return double.NaN;
        // Left to right (an introsort in place: nothing is allocated).
        kinks[..count].Sort(units[..count]);
        double sum = 0;
        int from = 0;
        for (int i = 0; i < count; i++)
        {
            if (double.IsNaN(kinks[i])) return double.NaN;
            int to = Math.Max(from, LowerBound(kinks[i]));
            sum += Piece(a, c, from, to);
            from = to;
            int j = (int)units[i];
            double sign = w1[j] > 0 ? 1 : -1; // crossing the kink left to right turns a rising unit on, a falling one off
            a += sign * (w2[j] * w1[j]);
            c += sign * (w2[j] * b1[j]);
        }
        sum += Piece(a, c, from, x.Length);
        return sum / x.Length;
    }

    /// <summary>Sum of (a x + c - y)^2 over sorted samples [from, to).</summary>
    private double Piece(double a, double c, int from, int to)
    {
        if (to <= from) return 0;
        double n = to - from;
        return a * a * (sxx[to] - sxx[from]) + 2 * a * c * (sx[to] - sx[from]) + c * c * n
            - 2 * a * (sxy[to] - sxy[from]) - 2 * c * (sy[to] - sy[from]) + (syy[to] - syy[from]);
    }

    /// <summary>How many samples lie below <paramref name="value"/>.</summary>
    private int LowerBound(double value)
    {
        int lo = 0, hi = x.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (x[mid] < value) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
