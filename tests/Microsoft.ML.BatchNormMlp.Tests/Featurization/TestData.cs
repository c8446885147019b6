using Microsoft.ML.BatchNormMlp.Featurization;

namespace Microsoft.ML.BatchNormMlp.Tests.Featurization;

/// <summary>
/// Where tests find the repository and its data. Tests run with the current directory in the test bin folder, so
/// data is resolved from the repository root (found by walking up to BatchNormMlp.sln). Missing data FAILS the
/// test: CI always has ../shared/data beside the clone, and a silently skipped test would hide that it is gone.
/// </summary>
internal static class TestData
{
    private static readonly Lazy<string> Root = new(FindRepositoryRoot);
    private static readonly Lazy<NameCorpus> NamesCorpus = new(() => NameCorpus.Load(NamesPath));

    public static string RepositoryRoot => Root.Value;

    /// <summary>names.txt, resolved from the repository root like the CLI resolves it from the current directory.</summary>
    public static string NamesPath => Require(DataPaths.Names);

    /// <summary>names.txt, loaded once per test run.</summary>
    public static NameCorpus Names => NamesCorpus.Value;

    public static string Require(string relative)
    {
        try
        {
            return DataPaths.Resolve(relative, baseDirectory: RepositoryRoot);
        }
        catch (FileNotFoundException e)
        {
            Assert.Fail($"Test data is missing. {e.Message}");
            throw; // unreachable: Assert.Fail throws
        }
    }

    public static string Fixture(string name) =>
        Path.Combine(RepositoryRoot, "tests", "Microsoft.ML.BatchNormMlp.Tests", "Featurization", "Fixtures", name);

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "BatchNormMlp.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No BatchNormMlp.sln above {TestContext.CurrentContext.TestDirectory}.");
    }
}

/// <summary>A fresh temporary directory, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "bnmlp-tests-" + Guid.NewGuid().ToString("N"));

    /// <summary>Writes bytes to a file under this directory (creating folders) and returns its full path.</summary>
    public string Write(string relative, byte[] bytes)
    {
        string full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
        return full;
    }

    public string Write(string relative, string text) => Write(relative, System.Text.Encoding.UTF8.GetBytes(text));

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } // best effort
    }
}
