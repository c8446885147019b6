using System.Text.Json;
using Microsoft.ML.BatchNormMlp.Export;

namespace Microsoft.ML.BatchNormMlp.Tests.Export;

/// <summary>
/// Model files written by this library, loaded by PyTorch with tests/fixtures/load_model.py (the script that
/// docs/model-format.md shows): the committed torch logits must match the C# forward pass. Regenerate with
/// tests/fixtures/generate_export_fixtures.sh (needs /usr/bin/python3 with torch; CI has no Python).
/// </summary>
public class TorchFixtureTests
{
    private const ulong Seed = 77;

    private static readonly object[] Fixtures = ExportTestModels.Names
        .SelectMany(name => new[] { new object[] { name, false }, new object[] { name, true } }).ToArray();

    private static string FileName(string name, bool folded) => $"{name}{(folded ? "-folded" : "")}.safetensors";

    private static ModelState Build(string name, bool folded)
    {
        var model = ExportTestModels.Random(name, Seed);
        return folded ? BatchNormFolding.Fold(model) : model;
    }

    private static string FixtureDirectory => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "Export");

    [TestCaseSource(nameof(Fixtures))]
    public void CommittedFixture_IsByteForByteWhatTheWriterProducesToday(string name, bool folded)
    {
        string dir = ExportTestModels.TempDirectory();
        try
        {
            string path = Path.Combine(dir, FileName(name, folded));
            ModelFile.Save(path, Build(name, folded));
            if (Environment.GetEnvironmentVariable("BNMLP_REGENERATE_FIXTURES") == "1")
                File.Copy(path, Path.Combine(SourceFixtureDirectory(), FileName(name, folded)), overwrite: true);
            Assert.That(File.ReadAllBytes(Path.Combine(FixtureDirectory, FileName(name, folded))), Is.EqualTo(File.ReadAllBytes(path)),
                "the format or the writer changed; regenerate with tests/fixtures/generate_export_fixtures.sh if that is intended");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [TestCaseSource(nameof(Fixtures))]
    public void PyTorchLogits_OfTheCommittedFile_MatchTheCSharpForwardPass(string name, bool folded)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDirectory, "torch_logits.json")));
        var torch = json.RootElement.GetProperty(FileName(name, folded)).EnumerateArray().Select(e => e.GetSingle()).ToArray();

        var model = ModelFile.Load(Path.Combine(FixtureDirectory, FileName(name, folded)));
        var c = model.Config;
        const int rows = 32;
        int[]? ids = null;
        float[]? x = null;
        if (c.IsDense)
            x = Enumerable.Range(0, rows * c.DenseInputWidth).Select(i => (float)(2 * Math.Sin(0.37 * (i / c.DenseInputWidth) + 0.11 * (i % c.DenseInputWidth)))).ToArray();
        else
            ids = Enumerable.Range(0, rows * c.ContextLength).Select(i => { int r = i / c.ContextLength, j = i % c.ContextLength; return (r * 5 + j * 3 + r / 4) % c.VocabularySize; }).ToArray();

        var logits = ExportTestModels.Logits(model, ids, x, rows);
        Assert.That(ExportTestModels.MaxAbsDifference(torch, logits), Is.LessThan(1e-5));
    }

    private static string SourceFixtureDirectory()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Microsoft.ML.BatchNormMlp.Tests", "Fixtures", "Export");
            if (Directory.Exists(Path.Combine(dir.FullName, "tests", "Microsoft.ML.BatchNormMlp.Tests")))
            {
                Directory.CreateDirectory(candidate);
                return candidate;
            }
        }
        throw new DirectoryNotFoundException("tests/Microsoft.ML.BatchNormMlp.Tests not found above the test directory.");
    }
}
