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

    /// <summary>
    /// The longest line accepted, in UTF-8 bytes. Real names are a few dozen bytes; a longer line means the wrong
    /// file (a binary file, a document, a CSV with one huge row), and refusing it early keeps memory bounded when
    /// such a file is hundreds of megabytes long.
    /// </summary>
    public const int MaxLineBytes = 1024;

    /// <summary>Reads the file as a stream: memory holds the names, never the whole file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Not UTF-8 text, a line longer than <see cref="MaxLineBytes"/>, a control character, or no names at all.</exception>
    /// <exception cref="IOException">The path is a directory or cannot be read (the message names it).</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read (the message names it).</exception>
    public static NameCorpus Load(string path)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new IOException($"'{full}' is a directory, not a names file (one name per line).");
        try
        {
            using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
            return FromLines(Utf8Lines.Read(stream, full, MaxLineBytes), full);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UnauthorizedAccessException($"Cannot read '{full}': permission denied.", e);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new IOException($"Cannot read '{full}': {e.Message}", e);
        }
    }

    /// <summary>Parses UTF-8 bytes; <paramref name="source"/> names them in error messages.</summary>
    public static NameCorpus Parse(ReadOnlySpan<byte> utf8, string source)
    {
        using var stream = new MemoryStream(utf8.ToArray(), writable: false);
        return FromLines(Utf8Lines.Read(stream, source, MaxLineBytes), source);
    }

    private static NameCorpus FromLines(IEnumerable<string> lines, string source)
    {
        var names = new List<string>();
        var lineNumbers = new List<int>();
        int blank = 0, lineNumber = 0;
        foreach (string line in lines)
        {
            lineNumber++;
            string name = line.Trim();
            if (name.Length == 0) { blank++; continue; }
            RejectControlCharacters(name, source, lineNumber);
            names.Add(name);
            lineNumbers.Add(lineNumber);
        }
        if (names.Count == 0)
            throw new InvalidDataException(lineNumber == 0
                ? $"{source}: the corpus is empty; it needs at least one name (one per line)."
                : $"{source}: the corpus holds no names, only {blank} blank line(s); it needs at least one name (one per line).");
        names.TrimExcess();
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
