using TorchMomentum.Cli.Output;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using TorchMomentum.Training;
using TorchMomentum.Verification;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>
/// <c>torchmomentum verify</c>: runs <see cref="TorchMomentum.Optimizers.MomentumSgd"/> against TorchSharp's
/// SGD over <see cref="VerificationGrid.Default"/> and fails if any configuration is out of tolerance.
/// </summary>
public static class VerifyCommand
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // A broken optimizer can differ by NaN or infinity: its rows are written ("NaN", "Infinity"), not refused.
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Builds the command; its action writes to <paramref name="console"/> or, with --json, <paramref name="output"/>.</summary>
    public static Command Create(IAnsiConsole console, TextWriter output)
    {
        var defaults = new ExperimentSettings();
        var seed = Options.Long("--seed", "Seed for torch.manual_seed", defaults.Seed, 0);
        var epochs = Options.Count("--epochs", "Passes over the chapter's data per configuration", defaults.Epochs, 1, 1_000);
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of a table" };
        var command = new Command("verify", "Check that the hand-written optimizer computes what torch.optim.SGD computes, configuration by configuration.")
        {
            seed, epochs, json,
        };
        command.SetAction(parse =>
        {
            var settings = defaults with { Seed = parse.GetValue(seed), Epochs = parse.GetValue(epochs) };
            var cases = VerificationGrid.Default().ToList();
            var results = new List<VerificationResult>();
            if (parse.GetValue(json))
            {
                results.AddRange(cases.Select(c => OptimizerVerifier.Run(c, settings, CPU)));
                output.WriteLine(JsonSerializer.Serialize(results.Select(JsonRow), Json));
            }
            else
            {
                console.Progress().Start(context =>
                {
                    var task = context.AddTask("configurations", maxValue: cases.Count);
                    foreach (var c in cases)
                    {
                        results.Add(OptimizerVerifier.Run(c, settings, CPU));
                        task.Increment(1);
                    }
                });
                Print(console, results);
            }
            return results.Any(r => r.Verdict == Verdict.Fail) ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }

    private static object JsonRow(VerificationResult r) => new
    {
        configuration = r.Case.Label,
        formulation = r.Case.Formulation.ToString().ToLowerInvariant(),
        dtype = r.Case.DType.ToString().ToLowerInvariant(),
        steps = r.Steps,
        max_parameter_difference = r.MaxParameterDifference,
        max_buffer_difference = r.MaxBufferDifference,
        tolerance = r.ParameterTolerance,
        buffer_tolerance = r.BufferTolerance,
        worst_share_of_bound = r.WorstShareOfBound,
        verdict = r.Verdict switch { Verdict.Pass => "pass", Verdict.Fail => "fail", _ => "torchsharp_differs" },
    };

    private static void Print(IAnsiConsole console, IReadOnlyList<VerificationResult> results)
    {
        var table = new Table().Title("MomentumSgd against TorchSharp's SGD on the chapter's net")
            .AddColumns("configuration", "steps", "max Δparam", "max Δbuffer", "tolerance", "worst Δ/bound", "verdict");
        foreach (var r in results)
        {
            string verdict = r.Verdict switch
            {
                Verdict.Pass => r.Case.IsBitwise ? "[green]bitwise[/]" : "[green]pass[/]",
                Verdict.Fail => "[red]FAIL[/]",
                _ => "[yellow]differs*[/]",
            };
            table.AddRow(Markup.Escape(r.Case.Label), r.Steps.ToString(CultureInfo.InvariantCulture),
                Exponent(r.MaxParameterDifference), Exponent(r.MaxBufferDifference),
                r.Case.IsBitwise ? "0" : $"{Exponent(r.ParameterTolerance)} per step", r.WorstShareOfBound is { } share ? Shown.Number(share, "0.00") : "-", verdict);
        }
        console.Write(table);
        if (results.Any(r => r.Verdict == Verdict.KnownTorchSharpDifference))
            console.MarkupLine("[yellow]*[/] expected: with maximize and weight decay TorchSharp's SGD adds the decay to the un-negated gradient; MomentumSgd follows PyTorch.");
        if (results.Any(r => !r.Case.IsBitwise))
            console.WriteLine("The chapter form starts each step from SGD's parameters and is held to that step's rounding bound (the largest shown); Δ/bound is the closest any step came to its own, at most 1.");
        int failed = results.Count(r => r.Verdict == Verdict.Fail);
        console.MarkupLine(failed == 0 ? $"[green]All {results.Count} configurations within tolerance.[/]" : $"[red]{failed} of {results.Count} configurations out of tolerance.[/]");
    }

    private static string Exponent(double v) => v == 0 ? "0" : Shown.Number(v, "0.0e+0");
}
