using System.Text;
using Microsoft.ML.BatchNormMlp.Featurization;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Tests.Featurization;

namespace Microsoft.ML.BatchNormMlp.Tests.Reliability;

/// <summary>
/// Files that are not a names corpus, through <c>bnmlp featurize --data FILE</c> in-process: each gives exit code 1
/// and one line on stderr naming the file and, where it applies, the line and the byte or character at fault.
/// </summary>
[NonParallelizable] // measures this thread's allocations
public class HostileCorpusTests
{
    private TempDirectory _temp = null!;

    [SetUp] public void SetUp() => _temp = new TempDirectory();
    [TearDown] public void TearDown() => _temp.Dispose();

    private static byte[] Utf16(string text, Encoding encoding) => [.. encoding.GetPreamble(), .. encoding.GetBytes(text)];

    private static readonly object[] Files =
    [
        new object[] { "png", new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13 }, new[] { ": the file looks like a PNG image, not UTF-8 text (it starts with the bytes 0x89504E47)." } },
        new object[] { "gzip", new byte[] { 0x1F, 0x8B, 8, 0, 0, 0, 0, 0 }, new[] { ": the file looks like a gzip archive (decompress it first), not UTF-8 text (it starts with the bytes 0x1F8B0800)." } },
        new object[] { "utf16-le-bom", Utf16("emma\nolivia\n", Encoding.Unicode), new[] { ": the file looks like UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8." } },
        new object[] { "utf16-be-bom", Utf16("emma\nolivia\n", Encoding.BigEndianUnicode), new[] { ": the file looks like UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8." } },
        new object[] { "utf16-no-bom", Encoding.Unicode.GetBytes("emma\nolivia\n"), new[] { ", line 1, byte 2: a NUL byte between characters; the file looks like UTF-16 without a byte order mark. Save it as UTF-8." } },
        new object[] { "nul", "emma\nan\0na\n"u8.ToArray(), new[] { ", line 2, byte 3: a NUL byte; this looks like a binary file, not UTF-8 text." } },
        new object[] { "control", "emma\nan\u0007na\n"u8.ToArray(), new[] { ", line 2, character 3: control character U+0007 is not allowed in a name." } },
        new object[] { "escape", "emma\n\u001b[31mred\n"u8.ToArray(), new[] { ", line 2, character 1: control character U+001B is not allowed in a name." } },
        new object[] { "lone-surrogate", new byte[] { (byte)'a', (byte)'\n', (byte)'b', 0xED, 0xA0, 0x80, (byte)'\n' }, new[] { ", line 2, byte 2: invalid UTF-8 (bytes 0xEDA080); save the file as UTF-8." } },
        new object[] { "overlong", new byte[] { (byte)'a', (byte)'b', 0xC0, 0xAF, (byte)'\n' }, new[] { ", line 1, byte 3: invalid UTF-8 (bytes 0xC0AF); save the file as UTF-8." } },
        new object[] { "latin1", new byte[] { (byte)'J', (byte)'o', (byte)'s', 0xE9, (byte)'\r', (byte)'\n' }, new[] { ", line 1, byte 4: invalid UTF-8 (bytes 0xE9); save the file as UTF-8." } },
        new object[] { "empty", Array.Empty<byte>(), new[] { ": the corpus is empty; it needs at least one name (one per line)." } },
        new object[] { "blank", " \n\t\n\r\n\n"u8.ToArray(), new[] { ": the corpus holds no names, only 4 blank line(s); it needs at least one name (one per line)." } },
        new object[] { "long-line", Encoding.ASCII.GetBytes("emma\n" + new string('x', 1025) + "\n"), new[] { ", line 2: the line is longer than 1024 bytes; this reader takes one short entry per line (is it the right file?)." } },
    ];

    [TestCaseSource(nameof(Files))]
    public void HostileFile_ExitsWith1_WithOneLineNamingTheFileAndPlace(string name, byte[] content, string[] expected) // one message per file
    {
        string path = _temp.Write(name + ".txt", content);
        string line = Cli.AssertUserError(["featurize", "--data", path]);
        Assert.That(line, Is.EqualTo($"bnmlp: error: {path}{expected[0]}"));
    }

    [Test]
    public void RandomBytes_AreRefusedOnTheirFirstLine()
    {
        var rng = new Rng(6);
        for (int trial = 0; trial < 20; trial++)
        {
            var bytes = new byte[4096];
            for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)rng.NextInt(256);
            string path = _temp.Write($"random{trial}.bin", bytes);
            string line = Cli.AssertUserError(["featurize", "--data", path], $"bnmlp: error: {path}");
            Assert.That(line, Does.Match(@"(line \d+, byte \d+: (invalid UTF-8|a NUL byte))|looks like"));
        }
    }

    [Test]
    public void HundredMegabyteSingleLine_IsRefusedAfterReadingOneChunk_WithoutHoldingTheLine()
    {
        string path = Path.Combine(_temp.Path, "one-line.txt");
        using (var file = new FileStream(path, FileMode.Create))
        {
            var block = Encoding.ASCII.GetBytes(new string('a', 1 << 20));
            for (int i = 0; i < 100; i++) file.Write(block);
        }
        Assert.That(new FileInfo(path).Length, Is.EqualTo(100L << 20));

        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Cli.AssertUserError(["featurize", "--data", path], $"bnmlp: error: {path}, line 1: the line is longer than {NameCorpus.MaxLineBytes} bytes");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        TestContext.Out.WriteLine($"100 MB single line: refused in {clock.Elapsed.TotalMilliseconds:F0} ms, {allocated / 1024} KiB allocated");
        Assert.That(allocated, Is.LessThan(4 << 20), "the reader must stop at the limit, not hold the line");
    }

    [Test]
    public void Directory_IsNamed_ByTheCliAndByTheLoader()
    {
        string dir = Directory.CreateDirectory(Path.Combine(_temp.Path, "corpus")).FullName;
        Cli.AssertUserError(["featurize", "--data", dir], $"bnmlp: error: Data directory '{dir}' does not hold names.txt");
        var e = Assert.Throws<IOException>(() => NameCorpus.Load(dir));
        Assert.That(e!.Message, Is.EqualTo($"'{dir}' is a directory, not a names file (one name per line)."));

        // A directory where the file should be, inside the data directory.
        Directory.CreateDirectory(Path.Combine(dir, "names.txt"));
        Cli.AssertUserError(["featurize", "--data", dir], $"does not hold names.txt");
    }

    [Test]
    public void UnreadablePath_ExitsWith1_NamingIt()
    {
        if (OperatingSystem.IsLinux())
        {
            // Reading /proc/self/mem from offset 0 fails with EIO for every user, root included.
            Cli.AssertUserError(["featurize", "--data", "/proc/self/mem"], "bnmlp: error: Cannot read '/proc/self/mem': ");
        }
        if (!OperatingSystem.IsWindows() && Environment.UserName != "root")
        {
            string path = _temp.Write("locked.txt", "emma\n");
            File.SetUnixFileMode(path, UnixFileMode.None);
            Cli.AssertUserError(["featurize", "--data", path], $"bnmlp: error: Cannot read '{path}': permission denied.");
        }
        else
        {
            Assert.That(OperatingSystem.IsLinux() || OperatingSystem.IsWindows(), "some unreadable path must have been tried");
        }
    }

    [Test]
    public void NamesFile_ThatIsFine_AfterTheHostileOnes_StillFeaturizes()
    {
        // The guards must not refuse real data: a long (but allowed) name, CRLF, a BOM, non-ASCII.
        string path = _temp.Write("ok.txt", "\uFEFFJosé\r\n" + new string('q', NameCorpus.MaxLineBytes) + "\r\nZoë😀\n");
        var (exit, _, error) = Cli.Run("featurize", "--data", path, "--rows", "0");
        Assert.That(exit, Is.EqualTo(0), error);
    }

    [Test]
    public void Mnist1dLoader_NamesBinaryFilesAndRefusesHugeLines()
    {
        string png = _temp.Write("png.csv", [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A]);
        var e = Assert.Throws<InvalidDataException>(() => Mnist1dDataset.Load(png));
        Assert.That(e!.Message, Is.EqualTo($"{png}: the file looks like a PNG image, not UTF-8 text (it starts with the bytes 0x89504E47)."));

        string huge = _temp.Write("huge.csv", Encoding.ASCII.GetBytes(new string('1', 1 << 20)));
        e = Assert.Throws<InvalidDataException>(() => Mnist1dDataset.Load(huge));
        Assert.That(e!.Message, Does.StartWith($"{huge}, line 1: the line is longer than 65536 bytes"));

        var io = Assert.Throws<IOException>(() => Mnist1dDataset.Load(_temp.Path));
        Assert.That(io!.Message, Does.Contain("is a directory"));
    }
}
