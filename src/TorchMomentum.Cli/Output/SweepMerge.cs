using TorchMomentum.Sweeps;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// <c>sweep merge</c>'s check: the shard files in a folder are one complete sweep (one grid and settings, one shard
/// count, every shard there once, each holding exactly its own cells with results that make sense), read into the
/// results the unsharded run would have had.
/// </summary>
public static class SweepMerge
{
    /// <summary>The shards of <paramref name="folder"/> as one sweep, or null and a one-line reason.</summary>
    public static (SweepGrid Grid, IReadOnlyList<CellResult> Results, SweepShardFile[] Shards)? Read(string folder, out string? error)
    {
        error = null;
        var paths = Directory.GetFiles(folder, SweepShardFile.Pattern).Order(StringComparer.Ordinal).ToArray();
        if (paths.Length == 0 && Directory.EnumerateFiles(folder, SweepShardFile.EarlierPattern).Any())
            return Fail($"sweep merge: '{folder}' holds shard files of an earlier TorchMomentum (sweep-shard-I-of-N.json, unsealed); train the shards again with this one.", out error);
        if (paths.Length == 0) return Fail($"sweep merge: no shard files (sweep-shard-I-of-N.bin) in '{folder}'.", out error);
        var shards = new List<(string Name, SweepShardFile File)>();
        foreach (var path in paths)
        {
            string name = Path.GetFileName(path);
            try
            {
                var file = SweepShardFile.Read(path);
                if (SweepShardFile.FileName(new Shard(file.ShardIndex, file.ShardCount)) != name)
                    return Fail($"sweep merge: '{name}' holds shard {file.ShardIndex}/{file.ShardCount}, not the one its name says.", out error);
                shards.Add((name, file));
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                return Fail($"sweep merge: '{name}' cannot be read: {e.Message}.", out error);
            }
        }
        var (firstName, first) = shards[0];
        if (shards.FirstOrDefault(s => !s.File.Grid.SameAs(first.Grid)) is { File: not null } other)
            return Fail($"sweep merge: '{firstName}' and '{other.Name}' are shards of different sweeps (their grids or settings differ).", out error);
        if (shards.FirstOrDefault(s => s.File.ShardCount != first.ShardCount) is { File: not null } cut)
            return Fail($"sweep merge: '{firstName}' and '{cut.Name}' cut the sweep into {first.ShardCount} and {cut.File.ShardCount} shards; keep the files of one cut only.", out error);
        var missing = Enumerable.Range(0, first.ShardCount).Except(shards.Select(s => s.File.ShardIndex)).ToArray();
        if (missing.Length > 0)
            return Fail($"sweep merge: {missing.Length} of {first.ShardCount} shards missing in '{folder}': " +
                string.Join(", ", missing.Take(10).Select(i => SweepShardFile.FileName(new Shard(i, first.ShardCount)))) + (missing.Length > 10 ? ", ..." : "") + ".", out error);

        var grid = first.Grid.ToGrid();
        var cells = grid.Cells().ToArray();
        var results = new CellResult?[cells.Length];
        foreach (var (name, file) in shards)
        {
            var own = grid.Cells(new Shard(file.ShardIndex, file.ShardCount)).Select(c => c.Id).ToArray();
            if (!file.Cells.Select(c => c.Id).SequenceEqual(own))
                return Fail($"sweep merge: '{name}' does not hold exactly its shard's {own.Length} cells (ids {file.ShardIndex}, {file.ShardIndex + file.ShardCount}, ...) in order.", out error);
            foreach (var c in file.Cells)
            {
                if (Problem(c, cells[c.Id], grid) is { } problem) return Fail($"sweep merge: '{name}', cell {c.Id}: {problem}.", out error);
                results[c.Id] = new CellResult(cells[c.Id], c.EpochLosses, c.FinalLoss, c.DivergedStep, c.StepsToTargets, c.SustainedSteps, c.CurveValues());
            }
        }
        return (grid, results.Select(r => r!).ToArray(), shards.Select(s => s.File).ToArray());
    }

    /// <summary>
    /// What is wrong with a cell's results, or null: finite losses, one per epoch it finished, a final loss exactly
    /// when it did not diverge, steps to each target within what it trained, in the order of the targets' losses.
    /// </summary>
    private static string? Problem(ShardCell c, SweepCell cell, SweepGrid grid)
    {
        var s = grid.SettingsOf(cell.BatchSize);
        int budget = grid.StepBudget(cell.BatchSize);
        // A mean squared error is finite and never negative.
        if (c.EpochLosses is null || c.EpochLosses.Any(l => !double.IsFinite(l) || l < 0)) return "its epoch losses are missing, negative or not finite";
        int targets = grid.TargetNames.Count;
        if (c.StepsToTargets is null || c.StepsToTargets.Length != targets || c.SustainedSteps is null || c.SustainedSteps.Length != targets)
            return $"it has no first and sustained steps to each of the {targets} targets";
        if (c.StepsToTargets.Concat(c.SustainedSteps).Any(t => t is < 1 || t > budget)) return $"its steps to a target are outside [1, {budget}]";
        if (c.StepsToTargets.Zip(c.SustainedSteps).Any(p => p.Second is { } kept && (p.First is not { } first || first > kept))) return "it stayed at a target before it first reached it";
        if (c.Curve is null || c.Curve.Length != (targets == 0 ? 0 : 4L * budget) || c.CurveValues().Any(float.IsNaN))
            return $"its full-data loss curve is not {(targets == 0 ? 0 : budget)} numbers";
        // A lower loss is reached (or held) no sooner than a higher one.
        foreach (var steps in new[] { c.StepsToTargets, c.SustainedSteps })
        {
            var byLoss = grid.TargetNames.Select((t, i) => (t, steps[i])).OrderByDescending(p => p.t).Select(p => p.Item2).ToArray();
            for (int i = 1; i < byLoss.Length; i++)
                if (byLoss[i] is { } lower && (byLoss[i - 1] is not { } higher || higher > lower)) return "it reached a lower target before a higher one";
        }
        if (c.DivergedStep is { } step)
        {
            if (step < 0 || step >= budget) return $"diverged_step {step} is not a step of the sweep";
            if (c.StepsToTargets.Any(t => t > step)) return "it reached a target after it diverged";
            if (c.FinalLoss is not null || c.EpochLosses.Length != step / s.StepsPerEpoch) return "a diverged cell has a loss per finished epoch and no final loss";
            return null;
        }
        int trained = CellResult.StepsTrained(budget, null);
        if (c.FinalLoss is not { } final || !double.IsFinite(final) || final < 0 || c.EpochLosses.Length != trained / s.StepsPerEpoch)
            return $"a cell that did not diverge has a finite, non-negative final loss and {trained / s.StepsPerEpoch} epoch losses";
        return null;
    }

    private static (SweepGrid, IReadOnlyList<CellResult>, SweepShardFile[])? Fail(string message, out string? error)
    {
        error = message;
        return null;
    }
}
