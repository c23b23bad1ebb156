using TorchMomentum.Files;
using System.Globalization;
using System.Text;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// Writes the commands' CSV files: comma-separated, "\n" line ends, UTF-8 without BOM, numbers in their
/// shortest round-trip form (the same text Python's repr gives), atomically.
/// </summary>
public static class CsvFile
{
    /// <summary>Writes a header line and one line per row.</summary>
    public static void Write(string path, IEnumerable<string> header, IEnumerable<IEnumerable<string>> rows) => AtomicFile.Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), bufferSize: -1, leaveOpen: true) { NewLine = "\n" };
        writer.WriteLine(string.Join(',', header));
        foreach (var row in rows) writer.WriteLine(string.Join(',', row));
    });

    /// <summary>A number at full precision: the shortest text that reads back as the same double.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A whole number.</summary>
    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
