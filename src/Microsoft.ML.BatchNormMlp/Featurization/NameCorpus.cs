using System.Text;

namespace Microsoft.ML.BatchNormMlp.Featurization;

/// <summary>
/// A corpus of names, one per line (names.txt). Lines are decoded as strict UTF-8 (BOM optional, LF or CRLF),
/// trimmed of surrounding whitespace; blank lines are skipped and counted. Each name remembers its line so that
/// later errors (a boundary symbol inside a name, an unknown symbol) can point at the file.
/// </summary>
internal sealed class NameCorpus
{
    private readonly int[] _lineNumbers;

    private NameCorpus(string source, IReadOnlyList<string> names, int[] lineNumbers, int blankLines)
    {
        Source = source;
        Names = names;
        _lineNumbers = lineNumbers;
        BlankLines = blankLines;
    }

    /// <summary>The file the names came from (a full path, or a label for in-memory text).</summary>
    public string Source { get; }

    /// <summary>The names in file order, trimmed, never empty.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Lines that were empty or held only whitespace.</summary>
    public int BlankLines { get; }

    /// <summary>The 1-based line of the file that held name <paramref name="index"/>.</summary>
    public int LineOf(int index) => _lineNumbers[index];

    /// <summary>"file, line n" for name <paramref name="index"/>, for error messages.</summary>
    public string Describe(int index) => $"{Source}, line {LineOf(index)}";

    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Invalid UTF-8, a control character, or no names at all.</exception>
    public static NameCorpus Load(string path)
    {
        string full = Path.GetFullPath(path);
        return Parse(File.ReadAllBytes(full), full);
    }

    /// <summary>Parses UTF-8 bytes; <paramref name="source"/> names them in error messages.</summary>
    public static NameCorpus Parse(ReadOnlySpan<byte> utf8, string source)
    {
        List<string> lines = Utf8Lines.Split(utf8, source);
        var names = new List<string>(lines.Count);
        var lineNumbers = new List<int>(lines.Count);
        int blank = 0;
        for (int i = 0; i < lines.Count; i++)
        {
            string name = lines[i].Trim();
            if (name.Length == 0) { blank++; continue; }
            RejectControlCharacters(name, source, i + 1);
            names.Add(name);
            lineNumbers.Add(i + 1);
        }
        if (names.Count == 0)
            throw new InvalidDataException(lines.Count == 0
                ? $"{source}: the corpus is empty; it needs at least one name (one per line)."
                : $"{source}: the corpus holds no names, only {blank} blank line(s); it needs at least one name (one per line).");
        return new NameCorpus(source, names, [.. lineNumbers], blank);
    }

    // A control character inside a name is almost always a damaged or binary file, not a symbol worth learning.
    private static void RejectControlCharacters(string name, string source, int lineNumber)
    {
        int position = 0;
        foreach (Rune rune in name.EnumerateRunes())
        {
            position++;
            if (Rune.IsControl(rune))
                throw new InvalidDataException(
                    $"{source}, line {lineNumber}, character {position}: control character U+{rune.Value:X4} is not allowed in a name.");
        }
    }
}
