using System.Text;
using Microsoft.ML.BatchNormMlp.Featurization;

namespace Microsoft.ML.BatchNormMlp.Tests.Featurization;

public class Mnist1dDatasetTests
{
    private static readonly string Header = "label," + string.Join(",", Enumerable.Range(0, 40).Select(i => $"x{i}"));

    private static string Row(int label, Func<int, string>? value = null) =>
        label + "," + string.Join(",", Enumerable.Range(0, 40).Select(i => value?.Invoke(i) ?? (i * 0.5 - 3).ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static Mnist1dDataset Parse(string text) => Mnist1dDataset.Parse(Encoding.UTF8.GetBytes(text), "m.csv");

    [Test]
    public void StandardFiles_Hold4000And1000Rows()
    {
        TestData.Require(DataPaths.Mnist1dTrain); // fails clearly when the data is missing
        var (train, test) = Mnist1dDataset.LoadStandard(baseDirectory: TestData.RepositoryRoot);
        Assert.That(train.Count, Is.EqualTo(4000));
        Assert.That(test.Count, Is.EqualTo(1000));
        Assert.That(train.Features, Has.Length.EqualTo(4000 * 40));
        Assert.That(train.Labels.Concat(test.Labels), Is.All.InRange(0, 9));
        Assert.That(train.Labels.Distinct().Count(), Is.EqualTo(10));
        // The first row of mnist1d_train.csv: "2,-0.33200567960739136,-0.47191035747528076,..."
        Assert.That(train.Labels[0], Is.EqualTo(2));
        Assert.That(train.Row(0)[0], Is.EqualTo(-0.33200567960739136f));
        Assert.That(train.Row(0)[1], Is.EqualTo(-0.47191035747528076f));
    }

    [Test]
    public void LoadStandard_AcceptsTheMnist1dFolderItself()
    {
        string folder = Path.GetDirectoryName(TestData.Require(DataPaths.Mnist1dTest))!;
        var (train, test) = Mnist1dDataset.LoadStandard(folder);
        Assert.That((train.Count, test.Count), Is.EqualTo((4000, 1000)));
    }

    [Test]
    public void ParsesRows_WithBomAndCrLf()
    {
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes($"{Header}\r\n{Row(7)}\r\n{Row(0, i => "1e-3")}\r\n")];
        Mnist1dDataset data = Mnist1dDataset.Parse(bytes, "m.csv");
        Assert.That(data.Labels, Is.EqualTo(new[] { 7, 0 }));
        Assert.That(data.Row(0)[3], Is.EqualTo(-1.5f));
        Assert.That(data.Row(1)[39], Is.EqualTo(0.001f));
    }

    [Test]
    public void WrongHeader_NamesLine1()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse("y,x0,x1\n" + Row(1)));
        Assert.That(e!.Message, Is.EqualTo("m.csv, line 1: expected the header label,x0,...,x39; found \"y,x0,x1\"."));
    }

    [Test]
    public void WrongFieldCount_NamesTheLine()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("m.csv", $"{Header}\n{Row(1)}\n{Row(2)},0.5\n");
        var e = Assert.Throws<InvalidDataException>(() => Mnist1dDataset.Load(path));
        Assert.That(e!.Message, Is.EqualTo($"{path}, line 3: expected 41 fields (label,x0,...,x39); found 42."));
    }

    [Test]
    public void NonNumericValue_NamesLineAndColumn()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse($"{Header}\n{Row(1)}\n{Row(3, i => i == 3 ? "abc" : "0")}\n"));
        Assert.That(e!.Message, Is.EqualTo("m.csv, line 3, column 5 (x3): \"abc\" is not a finite number."));
    }

    [Test]
    public void NonFiniteValue_IsRefused()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse($"{Header}\n{Row(1, i => i == 0 ? "NaN" : "0")}\n"));
        Assert.That(e!.Message, Is.EqualTo("m.csv, line 2, column 2 (x0): \"NaN\" is not a finite number."));
    }

    [TestCase("10")]
    [TestCase("-1")]
    [TestCase("2.5")]
    public void BadLabel_NamesLineAndColumn(string label)
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse($"{Header}\n{label}{Row(0)[1..]}\n"));
        Assert.That(e!.Message, Is.EqualTo($"m.csv, line 2, column 1 (label): \"{label}\" is not a class from 0 to 9."));
    }

    [Test]
    public void HeaderOnly_IsAClearError()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse(Header + "\n"));
        Assert.That(e!.Message, Is.EqualTo("m.csv: no data rows after the header."));
    }

    [Test]
    public void InvalidUtf8_NamesTheLine()
    {
        byte[] bytes = [.. Encoding.UTF8.GetBytes($"{Header}\n{Row(1)}\n"), 0x31, 0xFE, (byte)'\n'];
        var e = Assert.Throws<InvalidDataException>(() => Mnist1dDataset.Parse(bytes, "m.csv"));
        Assert.That(e!.Message, Is.EqualTo("m.csv, line 3, byte 2: invalid UTF-8 (bytes 0xFE); save the file as UTF-8."));
    }
}
