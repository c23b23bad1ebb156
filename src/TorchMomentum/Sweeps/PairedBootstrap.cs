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
        if (seeds < 1) throw new ArgumentOutOfRangeException(nameof(seeds), seeds, "a bootstrap needs at least one seed");
        var random = new Random(Seed);
        var counts = new int[seeds];
        var values = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            Array.Clear(counts);
            for (int i = 0; i < seeds; i++) counts[random.Next(seeds)]++;
            values[r] = statistic(counts);
        }
        Array.Sort(values);
        int low = (int)Math.Floor((1 - level) / 2 * resamples), high = (int)Math.Ceiling((1 + level) / 2 * resamples) - 1;
        return (values[low], values[Math.Min(high, resamples - 1)]);
    }

    /// <summary>The median of <paramref name="values"/> with each taken <paramref name="counts"/> times (infinity sorts last).</summary>
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
}
