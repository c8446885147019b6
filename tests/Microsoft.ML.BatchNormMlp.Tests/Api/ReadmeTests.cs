using Microsoft.ML.BatchNormMlp.Tests.Featurization;

namespace Microsoft.ML.BatchNormMlp.Tests.Api;

public class ReadmeTests
{
    [Test]
    public void ReadmeLibraryExample_IsTheCompiledExample()
    {
        string readme = File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "README.md"));
        int section = readme.IndexOf("\n## Library", StringComparison.Ordinal);
        Assert.That(section, Is.GreaterThanOrEqualTo(0), "README.md has no '## Library' section");
        int start = readme.IndexOf("```csharp\n", section, StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThan(section), "the Library section has no ```csharp block");
        start += "```csharp\n".Length;
        string block = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];

        Assert.That(Lines(block), Is.EqualTo(Lines(Region())), "README.md's library example differs from tests/.../Api/ReadmeExample.cs: copy the region into the README");
    }

    [Test]
    public void ReadmeLibraryExample_Runs()
    {
        string previous = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(TestData.RepositoryRoot);   // LoadNames() searches data/ and ../shared/data/ from here
        try
        {
            var (model, folded, loaded, metrics, path) = ReadmeExample.Run();
            try
            {
                Assert.That(metrics.Loss, Is.LessThan(2.5), "2000 steps of bn1 (measured 2.35)");
                Assert.That(loaded, Is.InstanceOf<FoldedCharacterModel>());
                Assert.That(loaded.PredictNext("em"), Is.EqualTo(folded.PredictNext("em")));
                Assert.That(loaded.Score("emma").LogLikelihood, Is.EqualTo(model.Score("emma").LogLikelihood).Within(1e-4));
            }
            finally { File.Delete(path); }
        }
        finally { Directory.SetCurrentDirectory(previous); }
    }

    private static string Region()
    {
        string source = File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "tests", "Microsoft.ML.BatchNormMlp.Tests", "Api", "ReadmeExample.cs"));
        int start = source.IndexOf("#region readme", StringComparison.Ordinal);
        start = source.IndexOf('\n', start) + 1;
        int end = source.LastIndexOf('\n', source.IndexOf("#endregion", start, StringComparison.Ordinal));
        return source[start..end];
    }

    // The lines without the common indentation and trailing blanks.
    private static string[] Lines(string text)
    {
        var lines = text.Replace("\r\n", "\n").TrimEnd().Split('\n');
        int indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return [.. lines.Select(l => l.Trim().Length == 0 ? "" : l[indent..].TrimEnd())];
    }
}
