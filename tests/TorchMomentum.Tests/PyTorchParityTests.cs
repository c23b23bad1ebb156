namespace TorchMomentum.Tests;

/// <summary>
/// The C# run and the chapter's PyTorch program (scripts/chapter_momentum.py) see the same data, weights and
/// batches, so their per-step losses agree to float32 rounding. The PyTorch side is the committed fixture
/// Fixtures/pytorch/chapter-losses.csv; a live test regenerates it and checks it still says the same.
/// </summary>
public sealed class PyTorchParityTests : IDisposable
{
    private readonly TemporaryFolder temporary = new();

    public void Dispose() => temporary.Dispose();

    [Fact]
    public void Losses_equal_the_chapters_pytorch_program_step_by_step()
    {
        string csharpOut = temporary["csharp"];
        var (exit, _, csharpError) = CliRunner.Run("train", "--out", csharpOut);
        Assert.True(exit == 0, csharpError);

        // Measured 3e-8 (libtorch 2.10 against PyTorch 1.13 kernels); a different batch or weight
        // would show up as 1e-2 or more.
        double worst = Fixtures.LargestLossDifference(Fixtures.Path("pytorch/chapter-losses.csv"), Path.Combine(csharpOut, "losses.csv"));
        Assert.InRange(worst, 0, 1e-6);
    }

    [Fact]
    [Trait("Category", PyTorchScripts.Trait)]
    public void The_committed_pytorch_fixtures_are_what_pytorch_computes_now()
    {
        string fresh = temporary["fixtures"];
        PyTorchScripts.Run("make_fixtures.py", ["--out", fresh]);

        // SGD on float64: the same IEEE operations in the same order, so the same bits.
        using var committed = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Fixtures.Path("pytorch/sgd-reference.json")));
        using var regenerated = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(fresh, "sgd-reference.json")));
        Assert.Equal(committed.RootElement.GetProperty("cases").GetRawText(), regenerated.RootElement.GetProperty("cases").GetRawText());
        // Training in float32 may pick other kernels on another CPU: equal to rounding.
        Assert.InRange(Fixtures.LargestLossDifference(Fixtures.Path("pytorch/chapter-losses.csv"), Path.Combine(fresh, "chapter-losses.csv")), 0, 1e-6);
    }
}
