using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// Where a command's wall time goes, phase by phase, from the process's start: what `train --timings` prints
/// and summary.json records.
/// </summary>
public sealed class Timings
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly List<(string Phase, double Seconds)> phases = [];
    private double last;

    /// <summary>Starts timing now; the time from the process's start to here is the first phase.</summary>
    public Timings()
    {
        using var process = Process.GetCurrentProcess();
        phases.Add(("runtime start and parsing", Math.Max(0, (DateTime.Now - process.StartTime).TotalSeconds)));
    }

    /// <summary>Ends the current phase, naming it.</summary>
    public void Mark(string phase)
    {
        double now = clock.Elapsed.TotalSeconds;
        phases.Add((phase, now - last));
        last = now;
    }

    /// <summary>Each phase's seconds, in order.</summary>
    public IReadOnlyDictionary<string, double> Phases => phases.ToDictionary(p => p.Phase, p => p.Seconds);

    /// <summary>The whole process so far, seconds.</summary>
    public double Total => phases.Sum(p => p.Seconds);

    /// <summary>Prints the phases as a table.</summary>
    public void Print(IAnsiConsole console)
    {
        var table = new Table().Title("Where the time went").AddColumn("phase").AddColumn(new TableColumn("seconds").RightAligned()).AddColumn(new TableColumn("share").RightAligned());
        foreach (var (phase, seconds) in phases)
            table.AddRow(phase, seconds.ToString("F3", CultureInfo.InvariantCulture), (seconds / Total).ToString("P0", CultureInfo.InvariantCulture));
        table.AddRow("[bold]total[/]", Total.ToString("F3", CultureInfo.InvariantCulture), "");
        console.Write(table);
    }
}
