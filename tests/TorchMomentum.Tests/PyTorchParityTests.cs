namespace TorchMomentum.Tests;

/// <summary>
/// The C# run and the chapter's PyTorch program (scripts/chapter_momentum.py) see the same data, weights and
/// batches, so their per-step losses agree to float32 rounding. The PyTorch side is the committed fixture
/// Fixtures/pytorch/chapter-losses.csv; a live test regenerates it and checks it still says the same.
/// </summary>
[Trait("Category", "Slow")]
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
    public void The_chapters_four_nets_race_as_its_pytorch_program_with_their_lines_uncommented()
    {
        string csharpOut = temporary["race"];
        var (exit, _, csharpError) = CliRunner.Run("train", "--contestants", "sgd,momentum,rmsprop,adam", "--out", csharpOut);
        Assert.True(exit == 0, csharpError);
        string losses = Path.Combine(csharpOut, "losses.csv");
        Assert.Equal("step,epoch,sgd,momentum,rmsprop,adam", File.ReadLines(losses).First());
        // Measured 3.0e-8 for every contestant: TorchSharp's RMSprop and Adam make PyTorch's operations in PyTorch's order.
        Assert.InRange(Fixtures.LargestLossDifference(Fixtures.Path("pytorch/race-losses.csv"), losses), 0, 1e-6);
    }

    [Fact]
    public void Nets_are_drawn_in_the_chapters_order_whatever_the_lists_order()
    {
        string listed = temporary["listed"], reversed = temporary["reversed"];
        Assert.Equal(0, CliRunner.Run("train", "--epochs", "2", "--contestants", "sgd,rmsprop,adam", "--out", listed).Exit);
        Assert.Equal(0, CliRunner.Run("train", "--epochs", "2", "--contestants", "adam,rmsprop,sgd", "--out", reversed).Exit);
        var a = File.ReadLines(Path.Combine(listed, "losses.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        var b = File.ReadLines(Path.Combine(reversed, "losses.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(a.Select(r => (r[2], r[3], r[4])), b.Select(r => (r[4], r[3], r[2])));
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
        Assert.InRange(Fixtures.LargestLossDifference(Fixtures.Path("pytorch/race-losses.csv"), Path.Combine(fresh, "race-losses.csv")), 0, 1e-6);
        // Steps are whole numbers: the same; the loss at the first target's step to rounding.
        var steps = File.ReadAllLines(Fixtures.Path("pytorch/steps-to-target.csv")).Select(r => r.Split(',')).ToArray();
        var again = File.ReadAllLines(Path.Combine(fresh, "steps-to-target.csv")).Select(r => r.Split(',')).ToArray();
        Assert.Equal(steps.Select(r => string.Join(',', r[..^1])), again.Select(r => string.Join(',', r[..^1])));
        Assert.Equal(File.ReadAllLines(Fixtures.Path("pytorch/steps-to-target-noise.csv")), File.ReadAllLines(Path.Combine(fresh, "steps-to-target-noise.csv")));
        // Eigenvalues of a float64 Hessian: the same to rounding (after a float32 run: to its rounding).
        using var hessians = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Fixtures.Path("pytorch/hessian-eigenvalues.json")));
        using var fresh2 = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(fresh, "hessian-eigenvalues.json")));
        foreach (var (a, b) in hessians.RootElement.GetProperty("cases").EnumerateArray().Zip(fresh2.RootElement.GetProperty("cases").EnumerateArray()))
            foreach (string point in new[] { "initial", "trained" })
                Assert.All(a.GetProperty(point).EnumerateArray().Zip(b.GetProperty(point).EnumerateArray()), v => Assert.Equal(v.First.GetDouble(), v.Second.GetDouble(), 1e-9));
    }
}
