using System.Text.Json;
using BatchNormMlp.Cli;

namespace Microsoft.ML.BatchNormMlp.Tests.Featurization;

/// <summary>Runs <c>bnmlp featurize</c> in-process, as a user would from a shell, and checks exit codes and output.</summary>
[NonParallelizable] // one test changes the current directory
public class FeaturizeCommandTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = BnmlpCli.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    [Test]
    public void Featurize_NamesTxt_PrintsCountsAndRows()
    {
        var (exit, output, error) = Run("featurize", "--data", TestData.NamesPath, "--rows", "3");
        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(error, Is.Empty);
        string[] lines = Lines(output);
        Assert.That(lines, Does.Contain("  32033 names, 0 blank line(s) skipped"));
        Assert.That(lines, Does.Contain("  .abcdefghijklmnopqrstuvwxyz"));
        Assert.That(lines, Does.Contain("train  25626  182625"));
        Assert.That(lines, Does.Contain("dev     3203   22655"));
        Assert.That(lines, Does.Contain("test    3204   22866"));
        Assert.That(lines, Does.Contain("total  32033  228146"));
        // The first training name after Python's shuffle with seed 42 is "yuheng".
        Assert.That(lines[^3..], Is.EqualTo(new[] { "  ... ---> y", "  ..y ---> u", "  .yu ---> h" }));
    }

    [Test]
    public void Featurize_Json_IsTheLastLine()
    {
        var (exit, output, error) = Run("featurize", "--data", TestData.NamesPath, "--context", "5", "--json");
        Assert.That(exit, Is.EqualTo(0), error);
        using JsonDocument json = JsonDocument.Parse(Lines(output)[^1]);
        JsonElement root = json.RootElement;
        Assert.That(root.GetProperty("command").GetString(), Is.EqualTo("featurize"));
        Assert.That(root.GetProperty("names").GetInt32(), Is.EqualTo(32033));
        Assert.That(root.GetProperty("rows").GetInt32(), Is.EqualTo(228146));
        Assert.That(root.GetProperty("context").GetInt32(), Is.EqualTo(5));
        Assert.That(root.GetProperty("vocabularySize").GetInt32(), Is.EqualTo(27));
        Assert.That(root.GetProperty("vocabulary")[0].GetString(), Is.EqualTo("."));
        JsonElement splits = root.GetProperty("splits");
        Assert.That(new[] { "train", "dev", "test" }.Select(s => splits.GetProperty(s).GetProperty("rows").GetInt32()),
            Is.EqualTo(new[] { 182625, 22655, 22866 }));
        Assert.That(root.GetProperty("sampleRows")[1].GetString(), Is.EqualTo("....y ---> u"));
    }

    [Test]
    public void Featurize_WithoutData_FindsNamesTxtFromTheCurrentDirectory()
    {
        string expected = TestData.NamesPath;
        string saved = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = TestData.RepositoryRoot;
            var (exit, output, error) = Run("featurize", "--rows", "0");
            Assert.That(exit, Is.EqualTo(0), error);
            Assert.That(Lines(output)[0], Is.EqualTo($"names: {expected}"));
        }
        finally
        {
            Environment.CurrentDirectory = saved;
        }
    }

    [Test]
    public void Featurize_CountsBlankLines_OfAUnicodeCorpus()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("names.txt", "\uFEFFJosé\r\n\r\nZoë😀\r\n  \r\nann\r\n");
        var (exit, output, error) = Run("featurize", "--data", path, "--json", "--rows", "1");
        Assert.That(exit, Is.EqualTo(0), error);
        JsonElement root = JsonDocument.Parse(Lines(output)[^1]).RootElement;
        Assert.That(root.GetProperty("names").GetInt32(), Is.EqualTo(3));
        Assert.That(root.GetProperty("blankLines").GetInt32(), Is.EqualTo(2));
        Assert.That(root.GetProperty("vocabulary").EnumerateArray().Select(e => e.GetString()),
            Is.EqualTo(new[] { ".", "J", "Z", "a", "n", "o", "s", "é", "ë", "😀" }));
        Assert.That(root.GetProperty("rows").GetInt32(), Is.EqualTo(5 + 5 + 4));
    }

    [TestCase("--context", "0", "--context must be an integer from 1 to 1024; got \"0\".")]
    [TestCase("--context", "abc", "--context must be an integer from 1 to 1024; got \"abc\".")]
    [TestCase("--rows", "-1", "--rows must be an integer from 0 to 1000; got \"-1\".")]
    [TestCase("--boundary", "ab", "--boundary must be exactly one printable character; got \"ab\".")]
    [TestCase("--no-such-option", "1", "Unrecognized command or argument '--no-such-option'.")]
    public void BadArgument_ExitsWith1_AndOneLineOnStderr(string option, string value, string message)
    {
        var (exit, output, error) = Run("featurize", "--data", TestData.NamesPath, option, value);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Is.Empty);
        Assert.That(Lines(error), Has.Length.EqualTo(1));
        Assert.That(error, Does.StartWith("bnmlp: error: ").And.Contain(message));
    }

    [Test]
    public void NoCommand_ExitsWith1()
    {
        var (exit, _, error) = Run();
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error.TrimEnd(), Is.EqualTo("bnmlp: error: Required command was not provided. (see bnmlp --help)"));
    }

    [Test]
    public void MissingFile_ExitsWith1_WithoutAStackTrace()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "nope.txt");
        var (exit, _, error) = Run("featurize", "--data", path);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(Lines(error), Has.Length.EqualTo(1));
        Assert.That(error, Does.StartWith($"bnmlp: error: Data file '{path}' does not exist."));
    }

    [Test]
    public void InvalidUtf8_ExitsWith1_NamingTheLine()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("names.txt", [.. "emma\n"u8, 0x6A, 0xE9, (byte)'\n']);
        var (exit, _, error) = Run("featurize", "--data", path);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error.TrimEnd(), Is.EqualTo($"bnmlp: error: {path}, line 2, byte 2: invalid UTF-8 (bytes 0xE9); save the file as UTF-8."));
    }

    [Test]
    public void BoundaryInCorpus_ExitsWith1_NamingTheLine()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("names.txt", "ann\nj.r.\n");
        var (exit, _, error) = Run("featurize", "--data", path);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.StartWith($"bnmlp: error: The boundary symbol '.' occurs in the corpus at {path}, line 2, character 2;"));
        (exit, _, error) = Run("featurize", "--data", path, "--boundary", "#");
        Assert.That(exit, Is.EqualTo(0), error);
    }

    [Test]
    public void Help_ExitsWith0_AndListsTheOptions()
    {
        var (exit, output, _) = Run("featurize", "--help");
        Assert.That(exit, Is.EqualTo(0));
        Assert.That(output, Does.Contain("--data").And.Contain("--context").And.Contain("--json"));
    }

    [Test]
    public void ExitCodes_SeparateUserErrorsFromBugs()
    {
        Assert.That(BnmlpCli.IsUserError(new FileNotFoundException("x")), Is.True);
        Assert.That(BnmlpCli.IsUserError(new InvalidDataException("x")), Is.True);
        Assert.That(BnmlpCli.IsUserError(new UserErrorException("x")), Is.True);
        Assert.That(BnmlpCli.IsUserError(new NullReferenceException()), Is.False);
        Assert.That(BnmlpCli.IsUserError(new IndexOutOfRangeException()), Is.False);
    }
}
