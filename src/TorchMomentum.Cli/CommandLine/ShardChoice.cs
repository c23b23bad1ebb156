using System.Globalization;
using TorchMomentum.Sweeps;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>
/// Which shard of a sweep this process trains: <c>--shard i/n</c> as given, or <c>--shard auto</c> from the
/// scheduler's environment, following its conventions: a Slurm job array's task (SLURM_ARRAY_TASK_ID, counted from
/// SLURM_ARRAY_TASK_MIN in steps of SLURM_ARRAY_TASK_STEP, of SLURM_ARRAY_TASK_COUNT tasks), or a Kubernetes
/// Indexed Job's completion index (JOB_COMPLETION_INDEX, of <c>--shards n</c>).
/// </summary>
public static class ShardChoice
{
    /// <summary>The shard asked for, or null and a one-line reason.</summary>
    /// <param name="given">--shard's value: "i/n" or "auto".</param>
    /// <param name="shards">--shards's value, for a Kubernetes Indexed Job.</param>
    /// <param name="environment">Reads an environment variable.</param>
    /// <param name="error">Why not, when null is returned.</param>
    public static Shard? Resolve(string given, int? shards, Func<string, string?> environment, out string? error)
    {
        error = null;
        if (given != "auto")
        {
            if (shards is not null) return Fail("--shards goes with --shard auto (a Kubernetes Indexed Job); with --shard i/n the count is n", out error);
            var parts = given.Split('/');
            if (parts.Length == 2 && Whole(parts[1], 1, Shard.MaxCount) is int n && Whole(parts[0], 0, n - 1) is int i) return new Shard(i, n);
            return Fail($"--shard must be i/n with n in [1, {Shard.MaxCount}] and i in [0, n - 1], or auto (got '{given}')", out error);
        }
        if (environment("SLURM_ARRAY_TASK_ID") is { } id)
        {
            if (shards is not null) return Fail("--shards is for a Kubernetes Indexed Job; in a Slurm job array the count is SLURM_ARRAY_TASK_COUNT", out error);
            string min = environment("SLURM_ARRAY_TASK_MIN") ?? "0", step = environment("SLURM_ARRAY_TASK_STEP") ?? "1", count = environment("SLURM_ARRAY_TASK_COUNT") ?? "";
            if (Whole(count, 1, Shard.MaxCount) is int n && Whole(min, 0, int.MaxValue) is int first && Whole(step, 1, int.MaxValue) is int stride
                && Whole(id, first, int.MaxValue) is int task && (task - first) % stride == 0 && (task - first) / stride < n)
                return new Shard((task - first) / stride, n);
            return Fail($"--shard auto: SLURM_ARRAY_TASK_ID={id} with SLURM_ARRAY_TASK_MIN={min}, SLURM_ARRAY_TASK_STEP={step} and SLURM_ARRAY_TASK_COUNT={count} " +
                $"is not one task of an array of at most {Shard.MaxCount}", out error);
        }
        if (environment("JOB_COMPLETION_INDEX") is { } index)
        {
            if (shards is not int n) return Fail("--shard auto in a Kubernetes Indexed Job needs --shards N, the Job's completions", out error);
            if (Whole(index, 0, n - 1) is int i) return new Shard(i, n);
            return Fail($"--shard auto: JOB_COMPLETION_INDEX must be a whole number in [0, --shards - 1 = {n - 1}] (got '{index}')", out error);
        }
        return Fail("--shard auto needs SLURM_ARRAY_TASK_ID (a Slurm job array) or JOB_COMPLETION_INDEX with --shards N (a Kubernetes Indexed Job); neither is set", out error);
    }

    private static int? Whole(string text, long min, long max) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v >= min && v <= max ? (int)v : null;

    private static Shard? Fail(string message, out string? error)
    {
        error = message + ".";
        return null;
    }
}
