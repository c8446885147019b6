using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace BatchNormMlp.Cli;

/// <summary>
/// Where a command writes: plain lines when output is redirected or captured (scripts, tests), Spectre.Console
/// tables on an interactive terminal; and, with --json, one JSON object as the very last line.
/// </summary>
internal sealed class CommandOutput
{
    private static readonly JsonSerializerOptions JsonLine = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = false };

    private CommandOutput(TextWriter writer, bool json, bool pretty)
    {
        // An ensemble's members report progress from threads of their own; a caller's writer (a StringWriter in
        // tests and in programs that run the command line in-process) need not be thread-safe, and two lines written
        // at once can tear its buffer. Console.Out is synchronized already and comes back as itself.
        Writer = TextWriter.Synchronized(writer);
        Json = json;
        Pretty = pretty;
    }

    public TextWriter Writer { get; }

    /// <summary>Whether --json was given.</summary>
    public bool Json { get; }

    /// <summary>Whether to draw with Spectre.Console: only on the real, interactive console.</summary>
    public bool Pretty { get; }

    public static CommandOutput For(ParseResult parse)
    {
        TextWriter writer = parse.InvocationConfiguration.Output;
        bool pretty = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        return new CommandOutput(writer, parse.GetValue(CommonOptions.Json), pretty);
    }

    public void Line(string text = "") => Writer.WriteLine(text);

    /// <summary>A table: drawn with borders on a terminal, else as aligned plain columns (first column left, the rest right).</summary>
    public void Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        List<IReadOnlyList<string>> all = [header, .. rows];
        if (Pretty)
        {
            var table = new Table().Border(TableBorder.Rounded);
            for (int c = 0; c < header.Count; c++)
                table.AddColumn(new TableColumn(Markup.Escape(header[c])) { Alignment = c == 0 ? Justify.Left : Justify.Right });
            foreach (IReadOnlyList<string> row in all.Skip(1)) table.AddRow([.. row.Select(Markup.Escape)]);
            AnsiConsole.Write(table);
            return;
        }
        int[] widths = [.. Enumerable.Range(0, header.Count).Select(c => all.Max(r => r[c].Length))];
        foreach (IReadOnlyList<string> row in all)
            Line(string.Join("  ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd());
    }

    /// <summary>Writes the command's figures as the last line when --json was given.</summary>
    public void Figures(JsonObject figures)
    {
        if (Json) Writer.WriteLine(figures.ToJsonString(JsonLine));
    }
}
