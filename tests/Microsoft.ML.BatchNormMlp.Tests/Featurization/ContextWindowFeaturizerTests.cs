using Microsoft.ML.BatchNormMlp.Featurization;

namespace Microsoft.ML.BatchNormMlp.Tests.Featurization;

public class ContextWindowFeaturizerTests
{
    private static int[][] Rows(ContextWindows windows) =>
        [.. Enumerable.Range(0, windows.Count).Select(r => windows.Context(r).ToArray())];

    [Test]
    public void Emma_WithContext3_GivesTheSeedsRows()
    {
        // ids: . = 0, a = 1, b = 2, e = 3, m = 4
        Vocabulary vocabulary = Vocabulary.FromCorpus(["emma", "ab"]);
        ContextWindows windows = ContextWindowFeaturizer.Featurize(["emma", "ab"], vocabulary, 3);
        Assert.That(windows.Count, Is.EqualTo(5 + 3));
        Assert.That(Rows(windows), Is.EqualTo(new int[][]
        {
            [0, 0, 0], [0, 0, 3], [0, 3, 4], [3, 4, 4], [4, 4, 1], // emma
            [0, 0, 0], [0, 0, 1], [0, 1, 2],                       // ab
        }));
        Assert.That(windows.Targets, Is.EqualTo(new[] { 3, 4, 4, 1, 0, 1, 2, 0 }));
        Assert.That(windows.Contexts, Has.Length.EqualTo(8 * 3), "flat [rows, N]");
        Assert.That(Enumerable.Range(0, 5).Select(r => windows.Describe(r, vocabulary)),
            Is.EqualTo(new[] { "... ---> e", "..e ---> m", ".em ---> m", "emm ---> a", "mma ---> ." }));
    }

    [Test]
    public void ContextOf1_IsABigram()
    {
        Vocabulary vocabulary = Vocabulary.FromCorpus(["abc"]);
        ContextWindows windows = ContextWindowFeaturizer.Featurize(["abc"], vocabulary, 1);
        Assert.That(windows.Contexts, Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That(windows.Targets, Is.EqualTo(new[] { 1, 2, 3, 0 }));
    }

    [Test]
    public void ContextOf5_PadsNamesShorterThanTheContext()
    {
        Vocabulary vocabulary = Vocabulary.FromCorpus(["ab"]);
        ContextWindows windows = ContextWindowFeaturizer.Featurize(["ab"], vocabulary, 5);
        Assert.That(Rows(windows), Is.EqualTo(new int[][] { [0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 2] }));
        Assert.That(windows.Targets, Is.EqualTo(new[] { 1, 2, 0 }));
    }

    [Test]
    public void ContextOf2_SlidesOverNamesLongerThanTheContext()
    {
        Vocabulary vocabulary = Vocabulary.FromCorpus(["abcde"]);
        ContextWindows windows = ContextWindowFeaturizer.Featurize(["abcde"], vocabulary, 2);
        Assert.That(Rows(windows), Is.EqualTo(new int[][] { [0, 0], [0, 1], [1, 2], [2, 3], [3, 4], [4, 5] }));
        Assert.That(windows.Targets, Is.EqualTo(new[] { 1, 2, 3, 4, 5, 0 }));
    }

    [Test]
    public void OneSymbolName_GivesTwoRows()
    {
        Vocabulary vocabulary = Vocabulary.FromCorpus(["x"]);
        ContextWindows windows = ContextWindowFeaturizer.Featurize(["x"], vocabulary, 3);
        Assert.That(windows.Contexts, Is.EqualTo(new[] { 0, 0, 0, 0, 0, 1 }));
        Assert.That(windows.Targets, Is.EqualTo(new[] { 1, 0 }));
    }

    [Test]
    public void UnicodeNames_CountScalarValues_NotUtf16Units()
    {
        // ids: . = 0, a = 1, ë = 2, 😀 = 3 ("😀" is two UTF-16 units but one symbol)
        string[] names = ["ë😀a"];
        Vocabulary vocabulary = Vocabulary.FromCorpus(names);
        ContextWindows windows = ContextWindowFeaturizer.Featurize(names, vocabulary, 3);
        Assert.That(windows.Count, Is.EqualTo(4));
        Assert.That(Rows(windows), Is.EqualTo(new int[][] { [0, 0, 0], [0, 0, 2], [0, 2, 3], [2, 3, 1] }));
        Assert.That(windows.Targets, Is.EqualTo(new[] { 2, 3, 1, 0 }));
        Assert.That(windows.Describe(3, vocabulary), Is.EqualTo("ë😀a ---> ."));
    }

    [Test]
    public void NameOutsideTheVocabulary_IsAnErrorNamingIt()
    {
        Vocabulary vocabulary = Vocabulary.FromCorpus(["ab"]);
        var e = Assert.Throws<ArgumentException>(() => ContextWindowFeaturizer.Featurize(["ab", "abz"], vocabulary, 3));
        Assert.That(e!.Message, Does.StartWith("Symbol 'z' (U+007A) at character 3 of \"abz\" is not in the vocabulary"));
    }

    [Test]
    public void ContextLength_MustBePositive()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ContextWindowFeaturizer.Featurize(["ab"], Vocabulary.FromCorpus(["ab"]), 0));
        Assert.That(e!.Message, Does.StartWith("The context length must be at least 1."));
    }

    [Test]
    public void NamesTxt_Gives228146Rows()
    {
        NameCorpus corpus = TestData.Names;
        Vocabulary vocabulary = Vocabulary.FromCorpus(corpus);
        ContextWindows windows = ContextWindowFeaturizer.Featurize(corpus.Names, vocabulary, 3);
        Assert.That(corpus.Names, Has.Count.EqualTo(32033));
        Assert.That(windows.Count, Is.EqualTo(228146));
        Assert.That(windows.Contexts, Has.Length.EqualTo(228146 * 3));
        // Every name ends with the boundary target: one 0 target per name.
        Assert.That(windows.Targets.Count(t => t == 0), Is.EqualTo(32033));
        Assert.That(windows.Describe(1, vocabulary), Is.EqualTo("..e ---> m"));
    }
}
