namespace TorchMomentum.Sweeps;

/// <summary>
/// Efron's percentile bootstrap over seeds: the seeds are drawn again with replacement, as many as there are, and a
/// statistic of the drawn seeds is taken each time; its 2.5th and 97.5th percentiles bound a 95% interval. Paired:
/// the statistic reads every family on the same drawn seeds (seed s gives each family the same data, initial weights
/// and batch order), so a ratio of two families' steps keeps what the seeds share out of its spread.
/// </summary>
public static class PairedBootstrap
{
    /// <summary>How many times the seeds are drawn again.</summary>
    public const int Resamples = 2000;

    /// <summary>The generator's seed: the same draws every time, so a study and its merge of shards agree to the byte.</summary>
    public const int Seed = 2019;

    /// <summary>
    /// The percentile interval of <paramref name="statistic"/> at <paramref name="level"/>: each resample passes it how
    /// many times each of the <paramref name="seeds"/> seeds was drawn (the counts sum to <paramref name="seeds"/>).
    /// </summary>
    public static (double Low, double High) Interval(int seeds, Func<int[], double> statistic, double level = 0.95, int resamples = Resamples)
    {
        var draws = Draws(seeds, resamples);
        var values = new double[resamples];
        for (int r = 0; r < resamples; r++) values[r] = statistic(draws[r]);
        return Interval(values, level);
    }

    /// <summary>
    /// The percentile interval at <paramref name="level"/> of a statistic already taken on every resample of
    /// <see cref="Draws"/> (in any order: they are sorted here, in place).
    /// </summary>
    public static (double Low, double High) Interval(double[] values, double level = 0.95)
    {
        Array.Sort(values);
        int resamples = values.Length;
        int low = (int)Math.Floor((1 - level) / 2 * resamples), high = (int)Math.Ceiling((1 + level) / 2 * resamples) - 1;
        return (values[low], values[Math.Min(high, resamples - 1)]);
    }

    /// <summary>
    /// The resamples' draws: for each, how many times each of <paramref name="seeds"/> seeds was drawn, from the
    /// generator seeded with <see cref="Seed"/>. The same every time, so a statistic that is costly to take can be taken
    /// for every resample at once (a study does so for each setting it reads) and the interval is the same. Shared and
    /// read-only: made once a seed count.
    /// </summary>
    public static int[][] Draws(int seeds, int resamples = Resamples)
    {
        if (seeds < 1) throw new ArgumentOutOfRangeException(nameof(seeds), seeds, "a bootstrap needs at least one seed");
        return made.GetOrAdd((seeds, resamples), key =>
        {
            var random = new Random(Seed);
            var draws = new int[key.Resamples][];
            for (int r = 0; r < key.Resamples; r++)
            {
                var counts = draws[r] = new int[key.Seeds];
                for (int i = 0; i < key.Seeds; i++) counts[random.Next(key.Seeds)]++;
            }
            return draws;
        });
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(int Seeds, int Resamples), int[][]> made = new();

    /// <summary>The median of <paramref name="values"/> with each taken <paramref name="counts"/> times (infinity sorts last).</summary>
    /// <remarks>Sorts a copy each call; <see cref="SortedValues"/> takes it for many counts of the same values without sorting.</remarks>
    public static double Median(ReadOnlySpan<double> values, ReadOnlySpan<int> counts)
    {
        int n = 0;
        foreach (int c in counts) n += c;
        Span<double> drawn = n <= 256 ? stackalloc double[n] : new double[n];
        for (int i = 0, at = 0; i < values.Length; i++)
            for (int k = 0; k < counts[i]; k++) drawn[at++] = values[i];
        drawn.Sort();
        return n % 2 == 1 ? drawn[n / 2] : (drawn[n / 2 - 1] + drawn[n / 2]) / 2;
    }

    /// <summary>
    /// Values sorted once (infinity last), whose median with each taken a given number of times is then read by walking
    /// them in order: a bootstrap reads the same seeds' steps thousands of times with new counts. The same number as
    /// <see cref="PairedBootstrap.Median(ReadOnlySpan{double}, ReadOnlySpan{int})"/> (the middle one, or the mean of the middle two).
    /// </summary>
    public sealed class SortedValues
    {
        private readonly double[] sorted;
        private readonly int[] order;

        /// <summary>Sorts a copy of <paramref name="values"/>, remembering where each came from.</summary>
        public SortedValues(ReadOnlySpan<double> values)
        {
            sorted = values.ToArray();
            order = [.. Enumerable.Range(0, sorted.Length)];
            Array.Sort(sorted, order);
        }

        /// <summary>The median with value i taken <paramref name="counts"/>[i] times.</summary>
        public double Median(ReadOnlySpan<int> counts)
        {
            int n = 0;
            foreach (int c in counts) n += c;
            // Positions n/2 - 1 and n/2 of the drawn values in ascending order (only the second for odd n).
            int high = n / 2, low = n % 2 == 1 ? high : high - 1, seen = 0;
            double lowValue = 0;
            bool lowFound = false;
            for (int k = 0; k < sorted.Length; k++)
            {
                int c = counts[order[k]];
                if (c == 0) continue;
                if (!lowFound && low < seen + c) (lowValue, lowFound) = (sorted[k], true);
                if (high < seen + c) return n % 2 == 1 ? sorted[k] : (lowValue + sorted[k]) / 2;
                seen += c;
            }
            throw new ArgumentException("the counts add up to no draws", nameof(counts));
        }
    }
}
