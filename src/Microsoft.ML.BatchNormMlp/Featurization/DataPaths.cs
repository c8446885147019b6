namespace Microsoft.ML.BatchNormMlp.Featurization;

/// <summary>
/// Finds the data files at run time, because they are never committed: an explicit path wins; otherwise
/// <c>data/&lt;relative&gt;</c>, then <c>../shared/data/&lt;relative&gt;</c>, both relative to a base directory
/// (the current directory unless told otherwise).
/// </summary>
internal static class DataPaths
{
    public const string Names = "names.txt";
    public const string Mnist1dTrain = "mnist1d/mnist1d_train.csv";
    public const string Mnist1dTest = "mnist1d/mnist1d_test.csv";

    /// <summary>The places searched for <paramref name="relative"/> when no explicit path is given, in order.</summary>
    public static IReadOnlyList<string> Candidates(string relative, string? baseDirectory = null)
    {
        string root = Path.GetFullPath(baseDirectory ?? Directory.GetCurrentDirectory());
        return
        [
            Path.GetFullPath(Path.Combine(root, "data", relative)),
            Path.GetFullPath(Path.Combine(root, "..", "shared", "data", relative)),
        ];
    }

    /// <summary>
    /// The full path of a data file. <paramref name="explicitPath"/> may name the file itself or a directory that
    /// holds <paramref name="relative"/>; when it is given it is the only place looked at.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing found; the message lists every place looked at and how to get the file.</exception>
    public static string Resolve(string relative, string? explicitPath = null, string? baseDirectory = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            string full = Path.GetFullPath(explicitPath, baseDirectory ?? Directory.GetCurrentDirectory());
            if (File.Exists(full)) return full;
            if (Directory.Exists(full))
            {
                string inside = Path.GetFullPath(Path.Combine(full, relative));
                if (File.Exists(inside)) return inside;
                throw new FileNotFoundException(
                    $"Data directory '{full}' does not hold {relative} (looked for '{inside}'). {HowToGet(relative)}", inside);
            }
            throw new FileNotFoundException($"Data file '{full}' does not exist. {HowToGet(relative)}", full);
        }

        IReadOnlyList<string> candidates = Candidates(relative, baseDirectory);
        foreach (string candidate in candidates)
            if (File.Exists(candidate)) return candidate;
        throw new FileNotFoundException(
            $"Could not find {relative}; looked in {string.Join(", ", candidates.Select(c => $"'{c}'"))}. {HowToGet(relative)}",
            candidates[0]);
    }

    private static string HowToGet(string relative) =>
        $"Get it with data/fetch-data.sh (copies ../shared/data when present, else downloads), or give the path of {relative} explicitly.";
}
