using System.Text;
using Microsoft.ML.BatchNormMlp.Featurization;

namespace Microsoft.ML.BatchNormMlp.Tests.Featurization;

public class VocabularyTests
{
    [Test]
    public void NamesTxt_GivesTheSeedsStoi()
    {
        Vocabulary vocabulary = Vocabulary.FromCorpus(TestData.Names);
        Assert.That(vocabulary.Count, Is.EqualTo(27));
        Assert.That(string.Concat(vocabulary.Symbols), Is.EqualTo(".abcdefghijklmnopqrstuvwxyz"));
        // The seeds: stoi = {s: i+1 for i, s in enumerate(sorted(set(''.join(words))))}; stoi['.'] = 0
        for (char c = 'a'; c <= 'z'; c++)
            Assert.That(vocabulary.TryGetId(c.ToString(), out int id) && id == c - 'a' + 1, Is.True, $"stoi['{c}']");
        Assert.That(vocabulary.BoundarySymbol, Is.EqualTo("."));
        Assert.That(vocabulary.UnknownId, Is.Null);
    }

    [Test]
    public void Symbols_AreUnicodeScalarValues_InCodePointOrder()
    {
        // U+FF21 (fullwidth A) sorts before U+1F600 by code point, but after it in UTF-16 order (0xD83D...).
        Vocabulary vocabulary = Vocabulary.FromCorpus(["zoë😀", "Ｚo", "Ａnn"]);
        Assert.That(vocabulary.Symbols, Is.EqualTo(new[] { ".", "n", "o", "z", "ë", "Ａ", "Ｚ", "😀" }));
        Assert.That(vocabulary.Encode("zoë😀"), Is.EqualTo(new[] { 3, 2, 4, 7 }), "the emoji is one symbol");
    }

    [Test]
    public void EncodeDecode_RoundTripsEveryName()
    {
        string[] names = ["José", "Zoë-Ann", "O'Brien", "mary ann", "李小龍", "Alex😀", "𝔊𝔬𝔱𝔥"];
        Vocabulary vocabulary = Vocabulary.FromCorpus(names);
        foreach (string name in names)
            Assert.That(vocabulary.Decode(vocabulary.Encode(name)), Is.EqualTo(name));
        Assert.That(vocabulary.Encode("𝔊𝔬𝔱𝔥"), Has.Length.EqualTo(4));
    }

    [Test]
    public void NamesTxt_RoundTripsEveryName()
    {
        NameCorpus corpus = TestData.Names;
        Vocabulary vocabulary = Vocabulary.FromCorpus(corpus);
        Assert.That(corpus.Names.All(n => vocabulary.Decode(vocabulary.Encode(n)) == n), Is.True);
        Assert.That(vocabulary.Encode("emma"), Is.EqualTo(new[] { 5, 13, 13, 1 }));
    }

    [Test]
    public void Decode_PrintsTheBoundaryAsItsSymbol()
    {
        Vocabulary vocabulary = Vocabulary.FromCorpus(["ab"]);
        Assert.That(vocabulary.Decode([0, 0, 1, 2, 0]), Is.EqualTo("..ab."));
    }

    [Test]
    public void Decode_OutOfRangeId_NamesItsPosition()
    {
        Vocabulary vocabulary = Vocabulary.FromCorpus(["ab"]);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.Decode([1, 9]));
        Assert.That(e!.Message, Does.StartWith("ids[1] = 9 is not in this vocabulary (ids 0 to 2)."));
    }

    [Test]
    public void CustomBoundary_LetsTheCorpusUseTheDot()
    {
        Vocabulary vocabulary = Vocabulary.FromCorpus(["j.r.", "ann"], boundarySymbol: "#");
        Assert.That(vocabulary.Symbols, Is.EqualTo(new[] { "#", ".", "a", "j", "n", "r" }));
        Assert.That(vocabulary.Decode([0, .. vocabulary.Encode("j.r."), 0]), Is.EqualTo("#j.r.#"));
    }

    [Test]
    public void BoundaryInCorpus_NamesTheNameAndCharacter()
    {
        var e = Assert.Throws<ArgumentException>(() => Vocabulary.FromCorpus(["ann", "j.r."]));
        Assert.That(e!.Message, Does.StartWith(
            "The boundary symbol '.' occurs in the corpus at name 2 (\"j.r.\"), character 2; choose a boundary symbol the corpus does not use."));
    }

    [Test]
    public void BoundaryInCorpusFile_NamesTheFileLineAndCharacter()
    {
        NameCorpus corpus = NameCorpus.Parse("ann\n\nbob\nj.r.\n"u8, "names.txt");
        var e = Assert.Throws<InvalidDataException>(() => Vocabulary.FromCorpus(corpus));
        Assert.That(e!.Message, Is.EqualTo(
            "The boundary symbol '.' occurs in the corpus at names.txt, line 4, character 2; choose a boundary symbol the corpus does not use."));
    }

    [TestCase("")]
    [TestCase("ab")]
    [TestCase("\n")]
    public void BoundaryMustBeOnePrintableSymbol(string boundary)
    {
        var e = Assert.Throws<ArgumentException>(() => Vocabulary.FromCorpus(["ann"], boundary));
        Assert.That(e!.Message, Does.StartWith($"A symbol must be exactly one printable Unicode character; got \"{boundary}\"."));
    }

    [Test]
    public void UnknownSymbol_AtInference_NamesSymbolAndPosition()
    {
        Vocabulary vocabulary = Vocabulary.FromCorpus(["ab"]);
        // Positions count symbols, not UTF-16 units: the emoji before 'c' is one symbol.
        var e = Assert.Throws<ArgumentException>(() => vocabulary.Encode("a😀c"));
        Assert.That(e!.Message, Does.StartWith(
            "Symbol '😀' (U+1F600) at character 2 of \"a😀c\" is not in the vocabulary of 3 symbols; build the vocabulary with an unknown symbol"));
        e = Assert.Throws<ArgumentException>(() => Vocabulary.FromCorpus(["a😀"]).Encode("a😀c"));
        Assert.That(e!.Message, Does.StartWith("Symbol 'c' (U+0063) at character 3 of \"a😀c\""));
    }

    [Test]
    public void UnknownSymbol_MapsToTheReservedLastId_WhenAskedTo()
    {
        Vocabulary vocabulary = Vocabulary.FromCorpus(["ab", "ba"], unknownSymbol: "?");
        Assert.That(vocabulary.Symbols, Is.EqualTo(new[] { ".", "a", "b", "?" }));
        Assert.That(vocabulary.UnknownId, Is.EqualTo(3));
        Assert.That(vocabulary.UnknownSymbol, Is.EqualTo("?"));
        Assert.That(vocabulary.Encode("axbé", UnknownSymbolHandling.MapToUnknown), Is.EqualTo(new[] { 1, 3, 2, 3 }));

        // Without opting in it is still an error, and the message says how to opt in.
        var e = Assert.Throws<ArgumentException>(() => vocabulary.Encode("axb"));
        Assert.That(e!.Message, Does.StartWith(
            "Symbol 'x' (U+0078) at character 2 of \"axb\" is not in the vocabulary of 4 symbols; encode with UnknownSymbolHandling.MapToUnknown to map it to the unknown id 3."));
    }

    [Test]
    public void ReservingUnknown_KeepsTheCorpusIds()
    {
        Vocabulary plain = Vocabulary.FromCorpus(TestData.Names);
        Vocabulary withUnknown = Vocabulary.FromCorpus(TestData.Names, unknownSymbol: "\uFFFD");
        Assert.That(withUnknown.Symbols.Take(27), Is.EqualTo(plain.Symbols));
        Assert.That(withUnknown.UnknownId, Is.EqualTo(27));
    }

    [Test]
    public void MapToUnknown_WithoutAReservedId_IsAnError()
    {
        Vocabulary vocabulary = Vocabulary.FromCorpus(["ab"]);
        var e = Assert.Throws<ArgumentException>(() => vocabulary.Encode("ab", UnknownSymbolHandling.MapToUnknown));
        Assert.That(e!.Message, Does.StartWith(
            "UnknownSymbolHandling.MapToUnknown needs a vocabulary that reserves an unknown id; build it with an unknown symbol."));
    }

    [Test]
    public void UnknownSymbolInCorpus_OrEqualToBoundary_IsAnError()
    {
        var e = Assert.Throws<ArgumentException>(() => Vocabulary.FromCorpus(["ab", "a?"], unknownSymbol: "?"));
        Assert.That(e!.Message, Does.StartWith("The unknown symbol '?' occurs in the corpus at name 2 (\"a?\"), character 2;"));
        e = Assert.Throws<ArgumentException>(() => Vocabulary.FromCorpus(["ab"], unknownSymbol: "."));
        Assert.That(e!.Message, Does.StartWith("The unknown symbol '.' must differ from the boundary symbol."));
    }

    [Test]
    public void FromSymbols_RebuildsTheSameVocabulary()
    {
        Vocabulary original = Vocabulary.FromCorpus(["zoë😀", "ann"], unknownSymbol: "?");
        Vocabulary copy = Vocabulary.FromSymbols(original.Symbols, lastIsUnknown: true);
        Assert.That(copy.Symbols, Is.EqualTo(original.Symbols));
        Assert.That(copy.UnknownId, Is.EqualTo(original.UnknownId));
        Assert.That(copy.Encode("zoë😀"), Is.EqualTo(original.Encode("zoë😀")));
    }

    [Test]
    public void FromSymbols_RefusesDuplicates()
    {
        var e = Assert.Throws<ArgumentException>(() => Vocabulary.FromSymbols([".", "a", "b", "a"]));
        Assert.That(e!.Message, Does.StartWith("Symbol 'a' appears twice in the vocabulary (ids 1 and 3)."));
    }
}
