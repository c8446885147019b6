using System.Net;
using System.Text;

namespace BatchNormMlp.Samples.Reporting;

/// <summary>
/// Builds one self-contained HTML page: headings, paragraphs, inline SVG figures and tables, with inline CSS
/// only (no scripts, fonts or files fetched), so the report can be mailed or archived as a single file.
/// </summary>
internal sealed class HtmlReport
{
    private readonly StringBuilder _body = new();
    private int _figures, _tables;

    public HtmlReport(string title)
    {
        ArgumentNullException.ThrowIfNull(title);
        Title = title;
    }

    public string Title { get; }

    private const string Css = """
        body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;
               color: #222; background: #fff; max-width: 1280px; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.5; font-size: 16px; }
        h1 { font-size: 1.8rem; margin-bottom: 0.5rem; }
        h2 { font-size: 1.35rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
        p { max-width: 55rem; }
        figure { margin: 1.2rem 0; overflow-x: auto; }
        figure svg { max-width: 100%; height: auto; display: block; }
        figure.full-size svg { max-width: none; }
        figcaption { color: #555; font-size: 0.92rem; margin-top: 0.3rem; max-width: 55rem; }
        .table-wrap { overflow-x: auto; }
        table { border-collapse: collapse; margin: 1rem 0; font-size: 0.95rem; }
        caption { caption-side: top; text-align: left; color: #555; padding-bottom: 0.4rem; }
        th, td { padding: 0.35rem 0.8rem; border-bottom: 1px solid #e2e2e2; }
        th { text-align: left; border-bottom: 2px solid #999; background: #f6f6f6; }
        th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        tbody tr:nth-child(even) { background: #fafafa; }
        code, pre { font-family: ui-monospace, 'SF Mono', Menlo, Consolas, 'DejaVu Sans Mono', monospace; font-size: 0.9em; }
        pre { background: #f4f4f4; padding: 0.6rem 0.8rem; overflow-x: auto; }
        """;

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    public HtmlReport Heading(string text)
    {
        _body.Append("<h2>").Append(Encode(text)).Append("</h2>\n");
        return this;
    }

    public HtmlReport Paragraph(string text)
    {
        _body.Append("<p>").Append(Encode(text)).Append("</p>\n");
        return this;
    }

    /// <summary>Preformatted text such as the command that reproduces a figure.</summary>
    public HtmlReport Code(string text)
    {
        _body.Append("<pre><code>").Append(Encode(text)).Append("</code></pre>\n");
        return this;
    }

    /// <summary>
    /// Embeds an SVG document produced by this library's charts (it must start with &lt;svg). A figure shrinks to
    /// fit a narrow window unless <paramref name="fullSize"/>, which keeps its size and scrolls sideways instead
    /// (for grids of small panels, whose text would become unreadable when shrunk).
    /// </summary>
    public HtmlReport Figure(string svg, string? caption = null, bool fullSize = false)
    {
        ArgumentNullException.ThrowIfNull(svg);
        string trimmed = svg.TrimStart();
        if (!trimmed.StartsWith("<svg", StringComparison.Ordinal))
            throw new ArgumentException($"Figure {_figures + 1}: expected an SVG document starting with '<svg', got '{Preview(trimmed)}'.", nameof(svg));
        _figures++;
        _body.Append(fullSize ? "<figure class=\"full-size\">\n" : "<figure>\n").Append(trimmed);
        if (!trimmed.EndsWith('\n')) _body.Append('\n');
        if (!string.IsNullOrEmpty(caption))
            _body.Append("<figcaption>Figure ").Append(_figures).Append(". ").Append(Encode(caption)).Append("</figcaption>\n");
        _body.Append("</figure>\n");
        return this;
    }

    public HtmlReport Figure(Chart chart, string? caption = null) => Figure(chart.ToSvg(), caption);

    public HtmlReport Figure(SmallMultiples grid, string? caption = null) => Figure(grid.ToSvg(), caption, fullSize: true);

    public HtmlReport Table(ReportTable table)
    {
        _tables++;
        // A column is numeric when every non-empty cell in it is a number.
        var numeric = new bool[table.Headers.Length];
        for (int c = 0; c < numeric.Length; c++)
            numeric[c] = table.Rows.Any(r => r[c] is not null) && table.Rows.All(r => r[c] is null || ReportTable.IsNumber(r[c]!));

        // Wide tables scroll inside their own box instead of widening the page.
        _body.Append("<div class=\"table-wrap\">\n<table>\n");
        if (!string.IsNullOrEmpty(table.Caption))
            _body.Append("<caption>Table ").Append(_tables).Append(". ").Append(Encode(table.Caption)).Append("</caption>\n");
        _body.Append("<thead><tr>");
        for (int c = 0; c < table.Headers.Length; c++)
            _body.Append(numeric[c] ? "<th class=\"num\" scope=\"col\">" : "<th scope=\"col\">").Append(Encode(table.Headers[c])).Append("</th>");
        _body.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in table.Rows)
        {
            _body.Append("<tr>");
            for (int c = 0; c < row.Length; c++)
            {
                bool isNumber = row[c] is not null && ReportTable.IsNumber(row[c]!);
                _body.Append(isNumber || numeric[c] ? "<td class=\"num\">" : "<td>").Append(Encode(table.FormatCell(row[c], c))).Append("</td>");
            }
            _body.Append("</tr>\n");
        }
        _body.Append("</tbody>\n</table>\n</div>\n");
        return this;
    }

    public string ToHtml()
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
            .Append("<title>").Append(Encode(Title)).Append("</title>\n")
            .Append("<style>\n").Append(Css).Append("\n</style>\n</head>\n<body>\n")
            .Append("<h1>").Append(Encode(Title)).Append("</h1>\n")
            .Append(_body)
            .Append("</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>Writes the page atomically (temporary file, then rename).</summary>
    public void Save(string path) => File.WriteAllText(path, ToHtml());

    private static string Preview(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
