using Spectre.Console;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// The progress bar of a training: Spectre.Console draws it on a thread of its own, so the training loop stays
/// a plain loop that only reports the steps done. Disposing it ends the bar, which gives the terminal back its
/// cursor, whether the loop finished, diverged or was interrupted.
/// </summary>
public sealed class TrainingProgress : IDisposable
{
    private readonly Task drawing;
    private readonly ManualResetEventSlim ended = new();
    private long stepsDone;

    private TrainingProgress(IAnsiConsole console, long totalSteps, long stepsDone, string unit)
    {
        this.stepsDone = stepsDone;
        var started = new ManualResetEventSlim();
        drawing = Task.Run(() => console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(unit, maxValue: totalSteps);
                started.Set();
                // A few redraws a second are plenty; the loop never waits for one.
                do task.Value = Interlocked.Read(ref this.stepsDone);
                while (!ended.Wait(100));
                task.Value = Interlocked.Read(ref this.stepsDone);
            }));
        // The bar is up before the first step's line could be printed beside it.
        started.Wait(TimeSpan.FromSeconds(5));
    }

    /// <summary>Shows a bar of <paramref name="totalSteps"/> steps, <paramref name="stepsDone"/> of them done already, counted in <paramref name="unit"/>.</summary>
    public static TrainingProgress Start(IAnsiConsole console, long totalSteps, long stepsDone, string unit = "steps") => new(console, totalSteps, stepsDone, unit);

    /// <summary>Tells the bar how many steps are done.</summary>
    public void Report(long steps) => Interlocked.Exchange(ref stepsDone, steps);

    /// <summary>Ends the bar and waits until it is drawn for the last time.</summary>
    public void Dispose()
    {
        if (drawing.IsCompleted) return; // disposed already
        ended.Set();
        drawing.GetAwaiter().GetResult();
    }
}
