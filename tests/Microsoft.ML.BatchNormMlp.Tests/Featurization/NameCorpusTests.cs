using System.Text;
using Microsoft.ML.BatchNormMlp.Featurization;

namespace Microsoft.ML.BatchNormMlp.Tests.Featurization;

public class NameCorpusTests
{
    private static NameCorpus Parse(string text) => NameCorpus.Parse(Encoding.UTF8.GetBytes(text), "test.txt");

    [Test]
    public void NamesTxt_Has32033Names_AndNoBlankLines()
    {
        NameCorpus corpus = TestData.Names;
        Assert.That(corpus.Names, Has.Count.EqualTo(32033));
        Assert.That(corpus.BlankLines, Is.Zero);
        Assert.That(corpus.Names.Take(3), Is.EqualTo(new[] { "emma", "olivia", "ava" }));
        Assert.That(corpus.Names[^1], Is.EqualTo("zzyzx"));
    }

    [Test]
    public void ByteOrderMark_IsNotPartOfTheFirstName()
    {
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("emma\nava")];
        NameCorpus corpus = NameCorpus.Parse(bytes, "bom.txt");
        Assert.That(corpus.Names, Is.EqualTo(new[] { "emma", "ava" }));
    }

    [Test]
    public void CrLf_And_Lf_GiveTheSameNames()
    {
        Assert.That(Parse("emma\r\nava\r\n").Names, Is.EqualTo(new[] { "emma", "ava" }));
        Assert.That(Parse("emma\nava\n").Names, Is.EqualTo(new[] { "emma", "ava" }));
        Assert.That(Parse("emma\r\nava\r\n").BlankLines, Is.Zero, "a final line ending is not a blank line");
    }

    [Test]
    public void BlankLines_AreSkippedAndCounted_AndLineNumbersKept()
    {
        NameCorpus corpus = Parse("emma\n\n   \nava\n\t\r\n");
        Assert.That(corpus.Names, Is.EqualTo(new[] { "emma", "ava" }));
        Assert.That(corpus.BlankLines, Is.EqualTo(3));
        Assert.That(corpus.LineOf(1), Is.EqualTo(4));
        Assert.That(corpus.Describe(1), Is.EqualTo("test.txt, line 4"));
    }

    [Test]
    public void SurroundingWhitespace_IsTrimmed_InnerSpacesKept()
    {
        Assert.That(Parse("  mary ann \t\n\u00A0jo\u00A0\n").Names, Is.EqualTo(new[] { "mary ann", "jo" }));
    }

    [Test]
    public void AnyUnicodeText_IsKept()
    {
        Assert.That(Parse("José\nZoë-Ann\nO'Brien\n李小龍\nAlex😀\n").Names,
            Is.EqualTo(new[] { "José", "Zoë-Ann", "O'Brien", "李小龍", "Alex😀" }));
    }

    [TestCase(new byte[] { 0xE9 }, "E9", TestName = "InvalidUtf8_Latin1Byte")]
    [TestCase(new byte[] { 0xC0, 0xAF }, "C0AF", TestName = "InvalidUtf8_Overlong")]
    [TestCase(new byte[] { 0xED, 0xA0, 0x80 }, "EDA080", TestName = "InvalidUtf8_EncodedSurrogate")]
    [TestCase(new byte[] { 0xE2, 0x82 }, "E282", TestName = "InvalidUtf8_Truncated")]
    public void InvalidUtf8_NamesFileLineAndByte(byte[] bad, string hex)
    {
        using var temp = new TempDirectory();
        string path = temp.Write("latin1.txt", [.. "emma\nava\n"u8, .. "jos"u8, .. bad, .. "\nzoe\n"u8]);
        var e = Assert.Throws<InvalidDataException>(() => NameCorpus.Load(path));
        Assert.That(e!.Message, Is.EqualTo($"{path}, line 3, byte 4: invalid UTF-8 (bytes 0x{hex}); save the file as UTF-8."));
    }

    [Test]
    public void InvalidUtf8_OnTheFirstLineAfterABom_CountsTheBom()
    {
        byte[] bytes = [0xEF, 0xBB, 0xBF, (byte)'a', 0xFF, (byte)'\n'];
        var e = Assert.Throws<InvalidDataException>(() => NameCorpus.Parse(bytes, "bom.txt"));
        Assert.That(e!.Message, Is.EqualTo("bom.txt, line 1, byte 5: invalid UTF-8 (bytes 0xFF); save the file as UTF-8."));
    }

    [Test]
    public void Utf16File_IsRefusedWithAHint()
    {
        byte[] bytes = [0xFF, 0xFE, .. Encoding.Unicode.GetBytes("emma\n")];
        var e = Assert.Throws<InvalidDataException>(() => NameCorpus.Parse(bytes, "utf16.txt"));
        Assert.That(e!.Message, Is.EqualTo("utf16.txt: the file looks like UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8."));
    }

    [Test]
    public void EmptyFile_IsAClearError()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("empty.txt", []);
        var e = Assert.Throws<InvalidDataException>(() => NameCorpus.Load(path));
        Assert.That(e!.Message, Is.EqualTo($"{path}: the corpus is empty; it needs at least one name (one per line)."));
    }

    [Test]
    public void OnlyBlankLines_IsAClearError()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse("\n  \r\n\t\n"));
        Assert.That(e!.Message, Is.EqualTo("test.txt: the corpus holds no names, only 3 blank line(s); it needs at least one name (one per line)."));
    }

    [Test]
    public void ControlCharacter_NamesLineAndCharacter()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse("emma\nav\u0007a\n"));
        Assert.That(e!.Message, Is.EqualTo("test.txt, line 2, character 3: control character U+0007 is not allowed in a name."));
    }

    [Test]
    public void MissingFile_IsFileNotFound()
    {
        using var temp = new TempDirectory();
        Assert.Throws<FileNotFoundException>(() => NameCorpus.Load(Path.Combine(temp.Path, "missing.txt")));
    }
}
