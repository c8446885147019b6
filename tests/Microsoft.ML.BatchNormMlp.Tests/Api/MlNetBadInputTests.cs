using Microsoft.ML.BatchNormMlp.Tests.Featurization;
using Microsoft.ML.Data;

namespace Microsoft.ML.BatchNormMlp.Tests.Api;

/// <summary>Bad input in the ML.NET path: a clear exception before any training step, naming the column and what was expected.</summary>
public class MlNetBadInputTests
{
    private static readonly MLContext Ml = new(seed: 1);

    [Test]
    public void MissingColumns_AreNamed_WithTheColumnsThatExist()
    {
        var names = Featurizers.View(TinyModels.Corpus, column: "FirstName");
        var ex = Assert.Catch<ArgumentException>(() => Ml.Transforms.Text.FeaturizeContextWindows().Fit(names));
        Assert.That(ex!.Message, Does.Contain("no column 'Name' (the names)").And.Contain("Columns: FirstName"));
        ex = Assert.Catch<ArgumentException>(() => Ml.Transforms.Text.FeaturizeContextWindows().GetOutputSchema(Shape(("FirstName", DataKind.String))));
        Assert.That(ex!.Message, Does.Contain("no column 'Name'"));

        var rows = Featurizers.Fit(TinyModels.Corpus).Transform(Featurizers.View(TinyModels.Corpus));
        ex = Assert.Catch<ArgumentException>(() => Ml.MulticlassClassification.Trainers.BatchNormMlp(featureColumnName: "Features").Fit(rows));
        Assert.That(ex!.Message, Does.Contain("no column 'Features' (the context)"));
        ex = Assert.Catch<ArgumentException>(() => Ml.MulticlassClassification.Trainers.BatchNormMlp(labelColumnName: "Next").GetOutputSchema(Ml.Transforms.Text.FeaturizeContextWindows().GetOutputSchema(Shape(("Name", DataKind.String)))));
        Assert.That(ex!.Message, Does.Contain("no column 'Next' (the label)"));
        var (_, model) = TinyModels.Train();
        ex = Assert.Catch<ArgumentException>(() => new BatchNormMlpTransformer(model, "Context").Transform(names));
        Assert.That(ex!.Message, Does.Contain("no column 'Context' (the context the model reads)"));
    }

    [Test]
    public void ColumnsOfTheWrongType_SayWhatWasExpected()
    {
        var numbers = Ml.Data.LoadFromEnumerable(new[] { new Numeric { Name = 1f, Context = [1, 2, 3], Label = 2 } });
        var ex = Assert.Catch<ArgumentException>(() => Ml.Transforms.Text.FeaturizeContextWindows().Fit(numbers));
        Assert.That(ex!.Message, Does.Contain("Column 'Name' (the names) must be text (string); it is Single"));
        // A vector of Single is dense features (a classifier of them): then the label must be a key of the class.
        ex = Assert.Catch<ArgumentException>(() => Ml.MulticlassClassification.Trainers.BatchNormMlp().Fit(numbers));
        Assert.That(ex!.Message, Does.Contain("Column 'Label' (the label) of the training data must be a UInt32 key of the class; it is Single."));
        var text = Ml.Data.LoadFromEnumerable(new[] { new TextContext { Context = "abc", Label = 2 } });
        ex = Assert.Catch<ArgumentException>(() => Ml.MulticlassClassification.Trainers.BatchNormMlp().Fit(text));
        Assert.That(ex!.Message, Does.Contain("Column 'Context' (the context) of the training data must be a known-size vector of UInt32 keys"));
        ex = Assert.Catch<ArgumentException>(() => Ml.MulticlassClassification.Trainers.BatchNormMlp().GetOutputSchema(Shape(("Context", DataKind.Single), ("Label", DataKind.String))));
        Assert.That(ex!.Message, Does.Contain("Column 'Context' must be the context, a vector of keys"));
    }

    [Test]
    public void EmptyData_IsRefused_BeforeTraining()
    {
        var none = Featurizers.View([]);
        var ex = Assert.Catch<ArgumentException>(() => Ml.Transforms.Text.FeaturizeContextWindows().Fit(none));
        Assert.That(ex!.Message, Does.Contain("The input has no rows"));
        var rows = Featurizers.Fit(TinyModels.Corpus).Transform(none);
        ex = Assert.Catch<ArgumentException>(() => Ml.MulticlassClassification.Trainers.BatchNormMlp().Fit(rows));
        Assert.That(ex!.Message, Does.Contain("The training data has no rows"));
    }

    [Test]
    public void ASymbolOutsideTheVocabulary_NamesTheRowAndPosition_BeforeTheFirstStep()
    {
        var featurizer = Featurizers.Fit(TinyModels.Corpus);
        var rows = featurizer.Transform(Featurizers.View(["anna", "bob", "zoë"]));
        var reports = 0;
        var options = TinyModels.Options(steps: 5);
        options.Progress = new Progress<TrainingProgressReport>(_ => reports++);
        var ex = Assert.Catch<ArgumentException>(() => Ml.MulticlassClassification.Trainers.BatchNormMlp(options).Fit(rows));
        Assert.That(ex!.Message, Does.Contain("Column 'Name', row 2 (\"zoë\"): symbol 'z' (U+007A) at character 1 is not in the featurizer's vocabulary"));
        Assert.That(reports, Is.Zero);

        var withDot = featurizer.Transform(Featurizers.View(["an.na"]));
        ex = Assert.Catch<ArgumentException>(() => withDot.GetColumn<uint>("Label").ToArray());
        Assert.That(ex!.Message, Does.Contain("row 0 (\"an.na\"): character 3 is the boundary symbol '.'"));

        // A reserved unknown symbol takes such symbols instead.
        var lenient = Featurizers.Fit(TinyModels.Corpus, unknownSymbol: "?");
        var mapped = lenient.Transform(Featurizers.View(["zoë"])).GetColumn<uint>("Label").ToArray();
        Assert.That(mapped[0], Is.EqualTo((uint)lenient.Vocabulary.UnknownId!.Value + 1));
    }

    [Test]
    public void ColumnsOfAnotherFeaturizersVocabulary_AreRefused()
    {
        var mine = Featurizers.Fit(TinyModels.Corpus);
        var other = Featurizers.Fit(["xyz", "zyx"]);
        var train = mine.Transform(Featurizers.View(TinyModels.Corpus));
        var foreign = other.Transform(Featurizers.View(["xyz"]));
        var trainer = Ml.MulticlassClassification.Trainers.BatchNormMlp(TinyModels.Options(steps: 2));
        var ex = Assert.Catch<ArgumentException>(() => trainer.Fit(train, foreign));
        Assert.That(ex!.Message, Does.Contain("of the validation data was made with another vocabulary"));
        var longer = Featurizers.Fit(TinyModels.Corpus, contextLength: 4).Transform(Featurizers.View(TinyModels.Corpus));
        ex = Assert.Catch<ArgumentException>(() => trainer.Fit(train, longer));
        Assert.That(ex!.Message, Does.Contain("holds contexts of 4 symbols but the training data's hold 3"));

        var (_, model) = TinyModels.Train();
        ex = Assert.Catch<ArgumentException>(() => new BatchNormMlpTransformer(model, "Context").Transform(foreign));
        Assert.That(ex!.Message, Does.Contain("was made with another vocabulary"));
        ex = Assert.Catch<ArgumentException>(() => model.Evaluate(foreign));
        Assert.That(ex!.Message, Does.Contain("another vocabulary"));

        // A label column whose keys belong to another vocabulary than the context's (same size, other symbols).
        var mixed = KeyView(contextSymbols: mine.Vocabulary.Symbols, labelSymbols: [.. mine.Vocabulary.Symbols.Reverse()]);
        ex = Assert.Catch<ArgumentException>(() => trainer.Fit(mixed));
        Assert.That(ex!.Message, Does.Contain("Columns 'Context' and 'Label' of the training data were made with different vocabularies"));
        // And a context key left missing (0).
        var missing = KeyView(mine.Vocabulary.Symbols, mine.Vocabulary.Symbols, context: [1, 0, 2]);
        ex = Assert.Catch<ArgumentException>(() => trainer.Fit(missing));
        Assert.That(ex!.Message, Does.Contain("Column 'Context', row 0 of the training data: context position 1 is a missing key (0)"));
    }

    /// <summary>A SchemaShape of text or Single columns (SchemaShape.Create is internal: built as the estimators build theirs).</summary>
    internal static SchemaShape Shape(params (string Name, DataKind Kind)[] columns) =>
        MlNet.SchemaShapes.With(new SchemaShape([]), [.. columns.Select(c => c.Kind == DataKind.String
            ? new MlNet.SchemaShapes.Added(c.Name, MlNet.SchemaShapes.ShapeMember.Text, TextDataViewType.Instance)
            : new MlNet.SchemaShapes.Added(c.Name, MlNet.SchemaShapes.ShapeMember.Number, NumberDataViewType.Single))]);

    // Rows of keys with KeyValues annotations made by hand, the way another featurizer (or a careless pipeline) might.
    private static IDataView KeyView(IReadOnlyList<string> contextSymbols, IReadOnlyList<string> labelSymbols, uint[]? context = null)
    {
        var definition = SchemaDefinition.Create(typeof(KeyRow));
        definition["Context"].ColumnType = new VectorDataViewType(new KeyDataViewType(typeof(uint), contextSymbols.Count), 3);
        definition["Label"].ColumnType = new KeyDataViewType(typeof(uint), labelSymbols.Count);
        foreach (var (column, symbols) in new[] { ("Context", contextSymbols), ("Label", labelSymbols) })
        {
            var values = new VBuffer<ReadOnlyMemory<char>>(symbols.Count, [.. symbols.Select(s => s.AsMemory())]);
            definition[column].AddAnnotation("KeyValues", values, new VectorDataViewType(TextDataViewType.Instance, symbols.Count));
        }
        var rows = Enumerable.Range(0, 4).Select(_ => new KeyRow { Context = context ?? [1, 1, 2], Label = 3 });
        return Ml.Data.LoadFromEnumerable(rows, definition);
    }

    private sealed class KeyRow
    {
        public uint[] Context { get; set; } = [];
        public uint Label { get; set; }
    }

    private sealed class TextContext
    {
        public string Context { get; set; } = "";
        public float Label { get; set; }
    }

    private sealed class Numeric
    {
        public float Name { get; set; }
        [VectorType(3)] public float[] Context { get; set; } = [];
        public float Label { get; set; }
    }
}
