using TorchMomentum.Files;
using System.Globalization;
using System.Text;

namespace TorchMomentum.Cli.Output;

/// <summary>
/// Writes the commands' CSV files: comma-separated, "\n" line ends, UTF-8 without BOM, numbers in their
/// shortest round-trip form (the same text Python's repr gives), atomically. Every number is finite: a result
/// that is not (a diverged path) is cut by its command before it gets here, and a cell that still reads as
/// infinity or NaN stops the write, leaving no file.
/// </summary>
public static class CsvFile
{
    /// <summary>Writes a header line and one line per row; a large table stops within a few thousand rows of <paramref name="cancel"/>.</summary>
    /// <exception cref="InvalidOperationException">A cell reads as infinity or NaN; nothing is written.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancel"/> was set; nothing is written.</exception>
    public static void Write(string path, IEnumerable<string> header, IEnumerable<IEnumerable<string>> rows, CancellationToken cancel = default) => AtomicFile.Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), bufferSize: -1, leaveOpen: true) { NewLine = "\n" };
        var columns = header.ToArray();
        writer.WriteLine(string.Join(',', columns));
        int line = 1;
        foreach (var row in rows)
        {
            var cells = row.ToArray();
            if (++line % 4096 == 0) cancel.ThrowIfCancellationRequested();
            for (int i = 0; i < cells.Length; i++)
                if (double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && !double.IsFinite(value))
                    throw new InvalidOperationException(
                        $"{System.IO.Path.GetFileName(path)}, line {line}, {(i < columns.Length ? columns[i] : $"column {i + 1}")}: '{cells[i]}' is not a finite number; the file was not written.");
            writer.WriteLine(string.Join(',', cells));
        }
    });

    /// <summary>A number at full precision: the shortest text that reads back as the same double.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A whole number.</summary>
    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
