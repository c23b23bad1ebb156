using TorchMomentum.Cli.Output;

namespace TorchMomentum.Tests;

/// <summary>The CSV writers: the table of numbers writes the bytes the text form writes, and refuses what it refuses.</summary>
public sealed class CsvFileTests : IDisposable
{
    private readonly TemporaryFolder temporary = new();

    public void Dispose() => temporary.Dispose();

    [Fact]
    public void A_table_of_numbers_is_the_text_forms_bytes()
    {
        // Whole numbers (ids, epochs) and losses of every size a sweep writes, and enough rows to flush its buffer many times.
        var random = new Random(5);
        var rows = Enumerable.Range(0, 20_000).Select(i => new[] { (double)i, i % 500 + 1, Math.Pow(10, random.Next(-12, 6)) * random.NextDouble() * (i % 7 == 0 ? -1 : 1) })
            .Append([0.1, 1e15 - 1, double.Epsilon]).Append([-0.0, 5e-324, double.MaxValue]).Append([-3, 1e17, -123456789012345]).ToArray();
        string folder = temporary["csv"];
        Directory.CreateDirectory(folder);
        string text = Path.Combine(folder, "text.csv"), numbers = Path.Combine(folder, "numbers.csv");
        CsvFile.Write(text, ["cell", "epoch", "mean_loss"], rows.Select(r => r.Select(CsvFile.Number)));
        CsvFile.WriteNumbers(numbers, ["cell", "epoch", "mean_loss"], table => { foreach (var r in rows) table.Row(r); });
        Assert.Equal(File.ReadAllBytes(text), File.ReadAllBytes(numbers));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_number_that_is_not_finite_stops_the_table_and_leaves_no_file(double bad)
    {
        string folder = temporary["bad"];
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "numbers.csv");
        var error = Assert.Throws<InvalidOperationException>(() =>
            CsvFile.WriteNumbers(path, ["cell", "epoch", "mean_loss"], table => { table.Row(1, 1, 0.5); table.Row(1, 2, bad); }));
        Assert.Equal($"numbers.csv, line 3, mean_loss: '{CsvFile.Number(bad)}' is not a finite number; the file was not written.", error.Message);
        Assert.Empty(Directory.GetFiles(folder));
    }
}
