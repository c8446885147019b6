using System.Text;
using BatchNormMlp.Samples.Reporting;

namespace BatchNormMlp.Samples.Experiments;

/// <summary>
/// What a sample prints and writes: the side-by-side table, the findings against the seed's figures (one line
/// each) and the HTML report with its charts.
/// </summary>
internal sealed record ExperimentOutcome(string Name, string Title, ReportTable Table, IReadOnlyList<string> Findings, HtmlReport Report)
{
    /// <summary>A second table printed after the first (e.g. the accuracies after the variances).</summary>
    public ReportTable? Extra { get; init; }

    /// <summary>The table as aligned plain text, then the findings, for the console.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        text.Append(Title).Append('\n').Append('\n');
        AppendTable(text, Table);
        if (Extra is not null) AppendTable(text.Append('\n'), Extra);
        if (Findings.Count > 0) text.Append('\n');
        foreach (string f in Findings) text.Append("- ").Append(f).Append('\n');
        return text.ToString();
    }

    private static void AppendTable(StringBuilder text, ReportTable table)
    {
        if (!string.IsNullOrEmpty(table.Caption)) text.Append(table.Caption).Append('\n');
        var cells = new List<string[]> { table.Headers };
        foreach (var row in table.Rows) cells.Add(row.Select((c, i) => table.FormatCell(c, i)).ToArray());
        var widths = new int[table.Headers.Length];
        foreach (var row in cells)
            for (int c = 0; c < row.Length; c++) widths[c] = Math.Max(widths[c], row[c].Length);
        for (int r = 0; r < cells.Count; r++)
        {
            for (int c = 0; c < widths.Length; c++)
            {
                bool number = r > 0 && table.Rows[r - 1][c] is not null and not string;
                string cell = cells[r][c];
                text.Append(number ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]));
                if (c < widths.Length - 1) text.Append("  ");
            }
            text.Append('\n');
            if (r == 0) text.Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
        }
    }

    /// <summary>Writes the report to <c>&lt;directory&gt;/&lt;Name&gt;/report.html</c> and returns its path.</summary>
    public string SaveReport(string directory)
    {
        string path = Path.GetFullPath(Path.Combine(directory, Name, "report.html"));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Report.Save(path);
        return path;
    }
}
