using System.Text.Json;
using TorchMomentum.Cli.CommandLine;
using TorchMomentum.Optimizers;
using TorchMomentum.Training;
using TorchMomentum.Verification;
using static TorchSharp.torch;

namespace TorchMomentum.Tests;

public class VerifyTests
{
    [Fact]
    public void Verify_json_lists_every_configuration_and_passes()
    {
        var (exit, output, error) = CliRunner.Run("verify", "--epochs", "2", "--json");
        Assert.True(exit == ExitCodes.Ok, error);
        using var json = JsonDocument.Parse(output);
        var rows = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(VerificationGrid.Default().Count, rows.Count);
        Assert.All(rows, r => Assert.Equal(64, r.GetProperty("steps").GetInt32()));
        foreach (var row in rows.Where(r => r.GetProperty("formulation").GetString() == "pytorch"))
        {
            bool known = row.GetProperty("verdict").GetString() == "torchsharp_differs";
            Assert.Equal(known, row.GetProperty("configuration").GetString()!.Contains("maximize") && row.GetProperty("configuration").GetString()!.Contains("wd="));
            if (!known) Assert.Equal(0, row.GetProperty("max_parameter_difference").GetDouble());
            else Assert.True(row.GetProperty("max_parameter_difference").GetDouble() > 1e-3);
        }
    }

    [Fact]
    public void Verify_table_says_all_pass()
    {
        var (exit, output, _) = CliRunner.Run("verify", "--epochs", "1");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("bitwise", output);
        Assert.Contains($"All {VerificationGrid.Default().Count} configurations within tolerance.", output);
    }

    [Fact]
    public void A_configuration_where_the_forms_really_differ_is_reported_as_a_failure()
    {
        // The chapter form under a changing lr is not SGD (its velocity keeps the old lr): the verifier
        // must see that, or its passes mean nothing.
        var c = new VerificationCase { Momentum = 0.8, Formulation = MomentumFormulation.Chapter, StepSchedule = true };
        var result = OptimizerVerifier.Run(c, new ExperimentSettings(), CPU);
        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.True(result.MaxParameterDifference > c.Tolerance);
    }
}
