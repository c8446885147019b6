namespace BatchNormMlp.Samples.Experiments;

/// <summary>
/// Where the samples find their data, which is never committed: an explicit path (a file, or a directory holding
/// it) wins; otherwise <c>data/&lt;relative&gt;</c>, then <c>../shared/data/&lt;relative&gt;</c>, both from a base
/// directory (the current directory unless told otherwise). <c>data/fetch-data.sh</c> gets the files.
/// </summary>
internal static class SampleData
{
    public const string Names = "names.txt";
    public const string Mnist1dTrain = "mnist1d/mnist1d_train.csv";
    public const string Mnist1dTest = "mnist1d/mnist1d_test.csv";

    /// <param name="relative">The file under a data directory.</param>
    /// <param name="explicitPath">The file itself or a directory holding it; null to search.</param>
    /// <param name="baseDirectory">Where relative paths and the search start; the current directory when null.</param>
    /// <param name="directoryOnly">Refuse an explicit file (a data set of several files, such as MNIST-1D's train and test).</param>
    /// <exception cref="FileNotFoundException">Nothing found; the message lists every place looked at.</exception>
    /// <exception cref="IOException"><paramref name="directoryOnly"/> and the explicit path is a file.</exception>
    public static string Find(string relative, string? explicitPath = null, string? baseDirectory = null, bool directoryOnly = false)
    {
        string root = Path.GetFullPath(baseDirectory ?? Directory.GetCurrentDirectory());
        string[] candidates;
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            string full = Path.GetFullPath(explicitPath, root);
            if (File.Exists(full))
                return directoryOnly
                    ? throw new IOException($"'{explicitPath}' is a file; this data set is a directory holding {Path.GetFileName(relative)} and its siblings (or holding {Path.GetDirectoryName(relative)}/ with them).")
                    : full;
            // A directory holding the file, or holding it directly (e.g. the mnist1d directory itself).
            candidates = [Path.Combine(full, relative), Path.Combine(full, Path.GetFileName(relative))];
        }
        else candidates = [Path.Combine(root, "data", relative), Path.Combine(root, "..", "shared", "data", relative)];
        foreach (string candidate in candidates.Select(Path.GetFullPath))
            if (File.Exists(candidate)) return candidate;
        throw new FileNotFoundException(
            $"Could not find {relative}; looked in {string.Join(", ", candidates.Select(c => $"'{Path.GetFullPath(c)}'"))}. Get it with data/fetch-data.sh, or give its path with --data.",
            Path.GetFullPath(candidates[0]));
    }
}
