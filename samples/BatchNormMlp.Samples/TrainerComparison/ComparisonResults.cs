using System.Text.Json;

namespace BatchNormMlp.Samples.TrainerComparison;

/// <summary>
/// Finished fits of a comparison run, one JSON line each (<c>--results FILE</c>). The full run takes hours of CPU on
/// a 2-core machine; with this file a run that stops keeps what it finished, and a rerun after one preset changes
/// refits only that preset (<c>--refit TEXT</c>: rows whose trainer contains TEXT are fitted again). A row is reused
/// only for the same trainer, setting, context and split sizes, so another slice of the data never matches.
/// </summary>
internal sealed class ComparisonResults
{
    private readonly string? _path;
    private readonly IReadOnlyList<string> _refit;
    private readonly Dictionary<string, ComparisonRow> _rows = new(StringComparer.Ordinal);

    private ComparisonResults(string? path, IReadOnlyList<string> refit)
    {
        _path = path;
        _refit = refit;
    }

    /// <summary>No file: every row is fitted and nothing is kept.</summary>
    public static ComparisonResults None { get; } = new(null, []);

    public static ComparisonResults Open(string path, IReadOnlyList<string> refit)
    {
        var results = new ComparisonResults(path, refit);
        if (!File.Exists(path)) return results;
        string[] lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            int lineNumber = i + 1;
            if (line.Length == 0) continue;
            Entry? entry;
            try { entry = JsonSerializer.Deserialize<Entry>(line); }
            catch (JsonException e) when (lineNumber == lines.Length)
            {
                // The last line of a run killed while writing: that fit is simply done again.
                Console.Error.WriteLine($"{path}:{lineNumber}: an unfinished last line is ignored ({e.Message}).");
                continue;
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: not a comparison result ({e.Message}). Delete the file or pass another --results path.", e);
            }
            if (entry?.Key is null || entry.Row is null)
                throw new InvalidDataException($"{path}:{lineNumber}: a result needs a key and a row.");
            results._rows[entry.Key] = entry.Row;
        }
        return results;
    }

    /// <summary>The key of one fit: who, with what, on which rows.</summary>
    public static string Key(string trainer, string setting, SplitSizes sizes) =>
        $"{trainer} | {setting} | context {sizes.Context} | {sizes.TrainRows}/{sizes.DevRows}/{sizes.TestRows} rows";

    public bool TryGet(string key, string trainer, out ComparisonRow row)
    {
        row = null!;
        if (_refit.Any(t => trainer.Contains(t, StringComparison.OrdinalIgnoreCase))) return false;
        return _rows.TryGetValue(key, out row!);
    }

    /// <summary>Appends the row and flushes it to disk before the next fit starts.</summary>
    public void Add(string key, ComparisonRow row)
    {
        _rows[key] = row;
        if (_path is null) return;
        using var stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read);
        using var writer = new StreamWriter(stream);
        writer.WriteLine(JsonSerializer.Serialize(new Entry(key, row)));
        writer.Flush();
        stream.Flush(flushToDisk: true);
    }

    private sealed record Entry(string Key, ComparisonRow Row);
}
