using Microsoft.ML.BatchNormMlp.Tests.Featurization;

namespace Microsoft.ML.BatchNormMlp.Tests.Api;

/// <summary>
/// The README's first library example: the first <c>```csharp</c> block of its "## Library" section, a whole
/// console program (using lines included) that ends with its real output in an <c>// Expected output:</c> comment.
/// <see cref="Packaging.PackageInstallTests"/> compiles it as pasted into a fresh project against the packed
/// package and runs it, comparing what it prints with that comment.
/// </summary>
internal static class ReadmeProgram
{
    private const string Marker = "// Expected output:";

    /// <summary>The program's source, as the README shows it.</summary>
    public static string Source()
    {
        string readme = File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "README.md")).Replace("\r\n", "\n");
        int section = readme.IndexOf("\n## Library", StringComparison.Ordinal);
        Assert.That(section, Is.GreaterThanOrEqualTo(0), "README.md has no '## Library' section");
        int start = readme.IndexOf("```csharp\n", section, StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThan(section), "the Library section has no ```csharp block");
        start += "```csharp\n".Length;
        return readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];
    }

    /// <summary>The lines of the <c>// Expected output:</c> comment, without the comment markers.</summary>
    public static string[] ExpectedOutput(string source)
    {
        var lines = source.Split('\n');
        int at = Array.FindIndex(lines, l => l.Trim() == Marker);
        Assert.That(at, Is.GreaterThanOrEqualTo(0), $"the README program has no '{Marker}' comment");
        return [.. lines.Skip(at + 1).TakeWhile(l => l.StartsWith("//", StringComparison.Ordinal)).Select(l => l.Length > 3 ? l[3..] : "")];
    }
}

public class ReadmeTests
{
    [Test]
    public void ReadmeLibraryExample_IsAWholeProgram_WithItsOutput()
    {
        string source = ReadmeProgram.Source();
        Assert.That(source, Does.StartWith("using Microsoft.ML;\n"), "the block must compile as pasted: its using lines first");
        Assert.That(source, Does.Contain("mlContext.Transforms.Text.FeaturizeContextWindows").And.Contain("MulticlassClassification.Trainers.BatchNormMlp")
            .And.Contain("MulticlassClassification.Evaluate").And.Contain("CreatePredictionEngine").And.Contain(".Sample(").And.Contain(".Fold()").And.Contain("ExportOnnx"));
        Assert.That(ReadmeProgram.ExpectedOutput(source), Has.Length.GreaterThan(5));
    }
}
