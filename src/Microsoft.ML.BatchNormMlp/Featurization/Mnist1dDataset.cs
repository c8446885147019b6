using System.Globalization;

namespace Microsoft.ML.BatchNormMlp.Featurization;

/// <summary>
/// MNIST-1D (greydanus/mnist1d) as CSV: a header <c>label,x0,...,x39</c>, then one row per example with an integer
/// class 0-9 and 40 floats. The standard files hold 4000 training and 1000 test rows. Numbers are read with the
/// invariant culture, so a machine set to a decimal comma reads the same values.
/// </summary>
internal sealed class Mnist1dDataset
{
    public const int Width = 40;
    public const int ClassCount = 10;

    private Mnist1dDataset(string source, float[] features, int[] labels)
    {
        Source = source;
        Features = features;
        Labels = labels;
    }

    /// <summary>The file the rows came from.</summary>
    public string Source { get; }

    /// <summary>Number of examples.</summary>
    public int Count => Labels.Length;

    /// <summary>The signals, row-major. // [Count, 40]</summary>
    public float[] Features { get; }

    /// <summary>The class of each example, 0 to 9. // [Count]</summary>
    public int[] Labels { get; }

    /// <summary>One example's signal. // [40]</summary>
    public ReadOnlySpan<float> Row(int index) => Features.AsSpan(index * Width, Width);

    /// <summary>Finds (see <see cref="DataPaths"/>) and loads the standard train and test files.</summary>
    /// <param name="explicitDirectory">A data directory holding <c>mnist1d/</c>, or the <c>mnist1d</c> directory itself; null to search.</param>
    /// <param name="baseDirectory">Where the search starts; the current directory when null.</param>
    public static (Mnist1dDataset Train, Mnist1dDataset Test) LoadStandard(string? explicitDirectory = null, string? baseDirectory = null) =>
        (Load(Find(DataPaths.Mnist1dTrain, explicitDirectory, baseDirectory)),
         Load(Find(DataPaths.Mnist1dTest, explicitDirectory, baseDirectory)));

    private static string Find(string relative, string? explicitDirectory, string? baseDirectory)
    {
        if (explicitDirectory is not null)
        {
            // A single file cannot be both the train and the test set: refuse it rather than train and test on it.
            if (File.Exists(Path.GetFullPath(explicitDirectory, baseDirectory ?? Directory.GetCurrentDirectory())))
                throw new IOException($"'{explicitDirectory}' is a file; MNIST-1D data is a directory holding {Path.GetFileName(DataPaths.Mnist1dTrain)} and {Path.GetFileName(DataPaths.Mnist1dTest)} (or holding mnist1d/ with them).");
            string direct = Path.GetFullPath(Path.Combine(explicitDirectory, Path.GetFileName(relative)), baseDirectory ?? Directory.GetCurrentDirectory());
            if (File.Exists(direct)) return direct;
        }
        return DataPaths.Resolve(relative, explicitDirectory, baseDirectory);
    }

    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A bad header, field count, number or label; the message names the file, line and column.</exception>
    public static Mnist1dDataset Load(string path)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new IOException($"'{full}' is a directory, not an MNIST-1D CSV file.");
        using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        return FromLines(Utf8Lines.Read(stream, full, MaxLineBytes), full);
    }

    /// <summary>Parses CSV bytes; <paramref name="source"/> names them in error messages.</summary>
    public static Mnist1dDataset Parse(ReadOnlySpan<byte> utf8, string source)
    {
        using var stream = new MemoryStream(utf8.ToArray(), writable: false);
        return FromLines(Utf8Lines.Read(stream, source, MaxLineBytes), source);
    }

    /// <summary>A row is 41 short numbers (under 1 KB); a far longer line is not this file, and is refused before it fills memory.</summary>
    private const int MaxLineBytes = 64 * 1024;

    private static Mnist1dDataset FromLines(IEnumerable<string> lines, string source)
    {
        string expectedHeader = "label," + string.Join(",", Enumerable.Range(0, Width).Select(i => $"x{i}"));
        using var line = lines.GetEnumerator();
        string header = line.MoveNext() ? line.Current.Trim() : "";
        if (header != expectedHeader)
            throw new InvalidDataException(
                $"{source}, line 1: expected the header label,x0,...,x{Width - 1}; found \"{Shorten(header)}\".");

        var features = new List<float>();
        var labels = new List<int>();
        for (int lineNumber = 2; line.MoveNext(); lineNumber++)
        {
            string text = line.Current.Trim();
            if (text.Length == 0) continue; // a trailing blank line is common and harmless
            string[] fields = text.Split(',');
            if (fields.Length != Width + 1)
                throw new InvalidDataException(
                    $"{source}, line {lineNumber}: expected {Width + 1} fields (label,x0,...,x{Width - 1}); found {fields.Length}.");

            string label = fields[0].Trim();
            if (!int.TryParse(label, NumberStyles.Integer, CultureInfo.InvariantCulture, out int y) || y < 0 || y >= ClassCount)
                throw new InvalidDataException(
                    $"{source}, line {lineNumber}, column 1 (label): \"{Shorten(label)}\" is not a class from 0 to {ClassCount - 1}.");
            labels.Add(y);

            for (int c = 1; c <= Width; c++)
            {
                string field = fields[c].Trim();
                if (!float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out float x) || !float.IsFinite(x))
                    throw new InvalidDataException(
                        $"{source}, line {lineNumber}, column {c + 1} (x{c - 1}): \"{Shorten(field)}\" is not a finite number.");
                features.Add(x);
            }
        }
        if (labels.Count == 0)
            throw new InvalidDataException($"{source}: no data rows after the header.");
        return new Mnist1dDataset(source, [.. features], [.. labels]);
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
