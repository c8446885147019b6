using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Tests.Export;

namespace Microsoft.ML.BatchNormMlp.Tests.Api;

public class ModelPersistenceTests
{
    private string _dir = null!;

    [SetUp] public void SetUp() => _dir = ExportTestModels.TempDirectory();
    [TearDown] public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    [Test]
    public void SaveAndLoad_PredictBitIdentically_AndKeepTheKind()
    {
        var t = TrainedModels.Get();
        CharacterModel[] models = [t.Model, t.Model.Fold()];
        foreach (var model in models)
        {
            string path = Path.Combine(_dir, $"m-{model.IsFolded}.safetensors");
            model.Save(path);
            var loaded = CharacterModel.Load(path);
            Assert.That(loaded.GetType(), Is.EqualTo(model.GetType()));
            Assert.That(loaded.IsFolded, Is.EqualTo(model.IsFolded));
            Assert.That(loaded.Vocabulary.Symbols, Is.EqualTo(model.Vocabulary.Symbols));
            Assert.That(loaded.ContextLength, Is.EqualTo(3));
            foreach (string prefix in new[] { "", "a", "em", "xavier" })
                Assert.That(Bits(loaded.PredictNext(prefix)), Is.EqualTo(Bits(model.PredictNext(prefix))), prefix);
            var names = t.Split.Dev.Take(300).ToArray();
            Assert.That(loaded.ScoreBatch(names).Select(s => s.LogLikelihood), Is.EqualTo(model.ScoreBatch(names).Select(s => s.LogLikelihood)));
            Assert.That(loaded.Sample(10, seed: 2), Is.EqualTo(model.Sample(10, seed: 2)));
            Assert.That(loaded.Evaluate(t.Dev), Is.EqualTo(model.Evaluate(t.Dev)));
        }
    }

    [Test]
    public void FoldedFile_HoldsNoNormTensors_AndTheUnfoldedOneDoes()
    {
        var t = TrainedModels.Get();
        string plain = Path.Combine(_dir, "plain.safetensors"), folded = Path.Combine(_dir, "folded.safetensors");
        t.Model.Save(plain);
        t.Model.Fold().Save(folded);
        Assert.That(SafeTensors.Read(plain).Tensors.Keys, Does.Contain("hidden.0.norm.running_var"));
        Assert.That(SafeTensors.Read(folded).Tensors.Keys.Where(k => k.Contains("norm")), Is.Empty);
        Assert.That(SafeTensors.Read(folded).Metadata["folded"], Is.EqualTo("true"));
        Assert.That(CharacterModel.Load(folded), Is.InstanceOf<FoldedCharacterModel>());
    }

    [Test]
    public void UnknownSymbol_SurvivesSaveAndLoad()
    {
        var (_, model) = TinyModels.Train(unknownSymbol: "?");
        string path = Path.Combine(_dir, "unknown.safetensors");
        model.Save(path);
        Assert.That(SafeTensors.Read(path).Metadata[ModelFile.UnknownSymbolKey], Is.EqualTo("last"));
        var loaded = CharacterModel.Load(path);
        Assert.That(loaded.Vocabulary.UnknownId, Is.EqualTo(model.Vocabulary.UnknownId));
        Assert.That(loaded.Score("zoë", UnknownSymbolHandling.MapToUnknown), Is.EqualTo(model.Score("zoë", UnknownSymbolHandling.MapToUnknown)));

        var (_, plain) = TinyModels.Train();
        string plainPath = Path.Combine(_dir, "plain.safetensors");
        plain.Save(plainPath);
        Assert.That(SafeTensors.Read(plainPath).Metadata.ContainsKey(ModelFile.UnknownSymbolKey), Is.False);
        Assert.That(CharacterModel.Load(plainPath).Vocabulary.UnknownId, Is.Null);
    }

    [Test]
    public void Load_RefusesDenseModelsAndBrokenFiles_NamingTheFile()
    {
        string dense = Path.Combine(_dir, "dense.safetensors");
        ModelFile.Save(dense, ExportTestModels.Random("dense-bn-residual"));
        var ex = Assert.Throws<ModelFormatException>(() => CharacterModel.Load(dense));
        Assert.That(ex!.Message, Does.Contain($"'{dense}' holds a dense-input model (a classifier of 40 features), not a character model."));

        string truncated = Path.Combine(_dir, "truncated.safetensors");
        TrainedModels.Get().Model.Save(truncated);
        var bytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var ex2 = Assert.Throws<ModelFormatException>(() => CharacterModel.Load(truncated));
        Assert.That(ex2!.Message, Does.Contain(truncated));

        Assert.Throws<FileNotFoundException>(() => CharacterModel.Load(Path.Combine(_dir, "missing.safetensors")));
    }

    [Test]
    public void Load_RefusesNonFiniteWeights_AsAFormatError()
    {
        var model = ExportTestModels.Random("post-bn-outputbn");
        var tensors = model.Tensors.ToDictionary(p => p.Key, p => (float[])p.Value.Clone());
        tensors["hidden.1.linear.weight"][4] = float.NaN;
        string path = Path.Combine(_dir, "nan.safetensors");
        ModelFile.Save(path, model with { Tensors = tensors });
        var ex = Assert.Throws<ModelFormatException>(() => CharacterModel.Load(path));
        Assert.That(ex!.Message, Does.Contain("tensor 'hidden.1.linear.weight' holds NaN at flat index 4"));
    }

    [Test]
    public void Fold_RefusesAModelWithoutBatchNorm()
    {
        var options = TinyModels.Options(steps: 5);
        options.BatchNorm = false;
        var (_, model) = TinyModels.Train(options: options);
        var ex = Assert.Throws<InvalidOperationException>(() => model.Fold());
        Assert.That(ex!.Message, Does.Contain("has no BatchNorm layers"));
    }

    [Test]
    public void ExportOnnx_WritesTheGraphOfTheModel()
    {
        var t = TrainedModels.Get();
        foreach (CharacterModel model in new CharacterModel[] { t.Model, t.Model.Fold() })
        {
            string path = Path.Combine(_dir, $"m-{model.IsFolded}.onnx");
            model.ExportOnnx(path);
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(Microsoft.ML.BatchNormMlp.Export.Onnx.OnnxExport.ToBytes(model.ToModelState())));
        }
        Assert.That(Directory.GetFiles(_dir, "*.tmp"), Is.Empty, "atomic writes leave no temporary file");
    }
}
