using System.Globalization;

namespace BatchNormMlp.Samples.Reporting;

/// <summary>
/// A table of figures for the HTML report. Cells are text or numbers; numbers are right-aligned and formatted
/// with their column's format in the invariant culture (NaN shows as "NaN", a missing value as an empty cell).
/// </summary>
internal sealed class ReportTable
{
    private readonly List<object?[]> _rows = [];

    public ReportTable(params string[] headers)
    {
        if (headers.Length == 0) throw new ArgumentException("A table needs at least one column.", nameof(headers));
        Headers = headers;
        Formats = new string?[headers.Length];
    }

    public string[] Headers { get; }

    /// <summary>A .NET numeric format per column (null: "G6" for fractions, plain integers).</summary>
    public string?[] Formats { get; }

    public string? Caption { get; set; }

    public IReadOnlyList<object?[]> Rows => _rows;

    /// <summary>Sets the number format of the column named <paramref name="header"/>.</summary>
    public ReportTable Format(string header, string format)
    {
        int index = Array.IndexOf(Headers, header);
        if (index < 0) throw new ArgumentException($"No column named '{header}'; columns are: {string.Join(", ", Headers)}.", nameof(header));
        Formats[index] = format;
        return this;
    }

    /// <summary>Adds a row: strings, numbers (any primitive numeric type) or null, one per column.</summary>
    public ReportTable AddRow(params object?[] cells)
    {
        if (cells.Length != Headers.Length)
            throw new ArgumentException($"Row {_rows.Count + 1} has {cells.Length} cells; the table has {Headers.Length} columns ({string.Join(", ", Headers)}).", nameof(cells));
        foreach (var cell in cells)
            if (cell is not null and not string && !IsNumber(cell))
                throw new ArgumentException($"Row {_rows.Count + 1}: a cell of type {cell.GetType().Name} is neither text nor a number.", nameof(cells));
        _rows.Add(cells);
        return this;
    }

    internal static bool IsNumber(object cell) =>
        cell is double or float or decimal or int or long or short or byte or uint or ulong or ushort or sbyte or Half;

    /// <summary>The text a cell shows.</summary>
    internal string FormatCell(object? cell, int column)
    {
        string? format = Formats[column];
        return cell switch
        {
            null => "",
            string s => s,
            double d => FormatDouble(d, format),
            float f => FormatDouble(f, format),
            Half h => FormatDouble((double)h, format),
            IFormattable n => n.ToString(format, CultureInfo.InvariantCulture),
            _ => cell.ToString() ?? "",
        };
    }

    private static string FormatDouble(double value, string? format)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "∞";
        if (double.IsNegativeInfinity(value)) return "-∞";
        return value.ToString(format ?? "G6", CultureInfo.InvariantCulture);
    }
}
