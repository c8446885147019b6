using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Export.Onnx;
using Microsoft.ML.Data;

namespace Microsoft.ML.BatchNormMlp.Tests.Export;

/// <summary>
/// The ML.NET scoring route: a folded model exported with key input and probabilities, applied by ML.NET's own
/// transforms (ConvertType of a key vector to a uint32 key column named as the model's input, then ApplyOnnxModel), saved by ML.NET to its model zip and
/// loaded back. The loaded pipeline's probabilities must equal the C# softmax of the model's logits.
/// </summary>
public class OnnxMlNetTests
{
    private string _dir = null!;

    [SetUp] public void SetUp() => _dir = ExportTestModels.TempDirectory();
    [TearDown] public void TearDown() => Directory.Delete(_dir, recursive: true);

    private sealed class ContextRow
    {
        public uint[] Context { get; set; } = [];
    }

    [TestCase("post-bn-residual")]
    [TestCase("pre-bn-plain")]
    public void MlNetPipeline_WithTheKeyInputModel_SavesLoadsAndMatchesTheCSharpSoftmax(string name)
    {
        var model = BatchNormFolding.Fold(ExportTestModels.Random(name, seed: 36));
        var c = model.Config;
        string onnx = Path.Combine(_dir, "model.onnx"), zip = Path.Combine(_dir, "pipeline.zip");
        OnnxExport.Save(onnx, model, new OnnxExportOptions { KeyInput = true, Probabilities = true });

        const int rows = 300;
        int[] ids = ExportTestModels.Contexts(c, rows, 300);
        var expected = OnnxExportTests.Softmax(ExportTestModels.Logits(model, ids, null, rows), c.OutputWidth);

        var ml = new MLContext(seed: 1);
        // ML.NET keys: raw value = vocabulary id + 1 (0 is missing), typed by the vocabulary's size.
        var schema = SchemaDefinition.Create(typeof(ContextRow));
        schema[nameof(ContextRow.Context)].ColumnType = new VectorDataViewType(new KeyDataViewType(typeof(uint), c.VocabularySize), c.ContextLength);
        var data = ml.Data.LoadFromEnumerable(
            Enumerable.Range(0, rows).Select(r => new ContextRow { Context = ids.AsSpan(r * c.ContextLength, c.ContextLength).ToArray().Select(id => (uint)(id + 1)).ToArray() }),
            schema);

        // The key column goes to ONNX Runtime as its raw uint32 values (OnnxTransformer accepts a key column for a
        // uint32 input). ConvertType to UInt32 keeps it a key (a key converts only to a key or to a wide enough
        // unsigned integer, and ConvertType makes keys of keys): here it renames the column to the model's input.
        var pipeline = ml.Transforms.Conversion.ConvertType(OnnxExport.IdsInput, nameof(ContextRow.Context), DataKind.UInt32)
            .Append(ml.Transforms.ApplyOnnxModel([OnnxExport.ProbabilitiesOutput], [OnnxExport.IdsInput], onnx));
        var fitted = pipeline.Fit(data);
        ml.Model.Save(fitted, data.Schema, zip);
        // The zip holds the ONNX bytes: the loaded pipeline must not need the file.
        File.Delete(onnx);
        var loaded = ml.Model.Load(zip, out var inputSchema);
        Assert.That(inputSchema[nameof(ContextRow.Context)].Type, Is.EqualTo(data.Schema[nameof(ContextRow.Context)].Type));

        var scored = loaded.Transform(data);
        var column = scored.Schema[OnnxExport.ProbabilitiesOutput];
        Assert.That(column.Type, Is.InstanceOf<VectorDataViewType>());
        Assert.That(((VectorDataViewType)column.Type).ItemType, Is.EqualTo(NumberDataViewType.Single));
        var actual = scored.GetColumn<float[]>(column).ToArray();

        Assert.That(actual, Has.Length.EqualTo(rows));
        Assert.That(actual.Select(p => p.Length), Is.All.EqualTo(c.OutputWidth));
        double diff = ExportTestModels.MaxAbsDifference(expected, actual.SelectMany(p => p).ToArray());
        TestContext.Out.WriteLine($"{name}: ML.NET (saved and loaded) max |probabilities - C# softmax| = {diff:E2}");
        Assert.That(diff, Is.LessThanOrEqualTo(1e-5));
    }
}
