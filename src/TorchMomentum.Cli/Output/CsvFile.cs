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
                    throw NotFinite(path, line, columns, i, cells[i]);
            writer.WriteLine(string.Join(',', cells));
        }
    });

    /// <summary>
    /// Writes a table of numbers alone straight into UTF-8 bytes, each in the form <see cref="Number(double)"/> gives
    /// it (a whole number below 10^15 reads as <see cref="Number(long)"/> does), with no text made per cell: for the
    /// long-form tables, a sweep's epoch-losses.csv being 205,000 rows at 200 epochs, where a string per cell, read
    /// back to check it, took a second; this takes 0.1 s (docs/sweep.md). The same checks as the text form:
    /// <paramref name="write"/> adds the rows; a cell that is not finite stops the write (no file), and so does
    /// <paramref name="cancel"/>, within a few thousand rows.
    /// </summary>
    public static void WriteNumbers(string path, IReadOnlyList<string> header, Action<NumberRows> write, CancellationToken cancel = default) => AtomicFile.Write(path, stream =>
    {
        var rows = new NumberRows(stream, path, header, cancel);
        write(rows);
        rows.Flush();
    });

    /// <summary>The rows of a <see cref="WriteNumbers"/> table, written as they are added.</summary>
    public sealed class NumberRows
    {
        private readonly Stream stream;
        private readonly string path;
        private readonly IReadOnlyList<string> header;
        private readonly CancellationToken cancel;
        private readonly byte[] buffer = new byte[1 << 16];
        private int used, line = 1;

        internal NumberRows(Stream stream, string path, IReadOnlyList<string> header, CancellationToken cancel)
        {
            (this.stream, this.path, this.header, this.cancel) = (stream, path, header, cancel);
            stream.Write(Encoding.UTF8.GetBytes(string.Join(',', header) + "\n"));
        }

        /// <summary>Adds one row, its cells in the header's order.</summary>
        public void Row(params ReadOnlySpan<double> cells)
        {
            if (++line % 4096 == 0) cancel.ThrowIfCancellationRequested();
            if (used > buffer.Length - cells.Length * 32) Flush();
            for (int i = 0; i < cells.Length; i++)
            {
                if (!double.IsFinite(cells[i]))
                    throw NotFinite(path, line, header, i, Number(cells[i]));
                if (i > 0) buffer[used++] = (byte)',';
                double cell = cells[i];
                // A whole number (an id, an epoch) as a long: the same text "R" gives it below 10^15 (-0 aside), a third of the time.
                int written;
                if (cell == Math.Floor(cell) && Math.Abs(cell) < 1e15 && !(cell == 0 && double.IsNegative(cell)))
                    ((long)cell).TryFormat(buffer.AsSpan(used), out written, default, CultureInfo.InvariantCulture);
                else
                    cell.TryFormat(buffer.AsSpan(used), out written, "R", CultureInfo.InvariantCulture); // at most 24 bytes
                used += written;
            }
            buffer[used++] = (byte)'\n';
        }

        internal void Flush()
        {
            stream.Write(buffer, 0, used);
            used = 0;
        }
    }

    /// <summary>Both forms' one refusal: where, in which column, and what the cell read.</summary>
    private static InvalidOperationException NotFinite(string path, int line, IReadOnlyList<string> header, int column, string cell) =>
        new($"{System.IO.Path.GetFileName(path)}, line {line}, {(column < header.Count ? header[column] : $"column {column + 1}")}: '{cell}' is not a finite number; the file was not written.");

    /// <summary>A number at full precision: the shortest text that reads back as the same double.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A whole number.</summary>
    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
