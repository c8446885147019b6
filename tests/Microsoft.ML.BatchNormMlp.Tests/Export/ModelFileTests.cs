using System.Text;
using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Tests.Export;

public class ModelFileTests
{
    private string _dir = null!;

    [SetUp] public void SetUp() => _dir = ExportTestModels.TempDirectory();
    [TearDown] public void TearDown() => Directory.Delete(_dir, recursive: true);

    [TestCaseSource(typeof(ExportTestModels), nameof(ExportTestModels.NamesWithGroups))]
    public void SaveLoad_RoundTripsConfigVocabularyAndTensorsBitIdentically_FoldedAndUnfolded(string name)
    {
        var model = ExportTestModels.Random(name);
        foreach (var m in new[] { model, BatchNormFolding.Fold(model) })
        {
            string path = Path.Combine(_dir, $"{name}-{m.Folded}.safetensors");
            ModelFile.Save(path, m);
            var loaded = ModelFile.Load(path);

            Assert.That(loaded.Config with { HiddenWidths = [], ActivationGroups = null }, Is.EqualTo(m.Config with { HiddenWidths = [], ActivationGroups = null }));
            Assert.That(loaded.Config.HiddenWidths, Is.EqualTo(m.Config.HiddenWidths));
            Assert.That(loaded.Config.ActivationGroups, Is.EqualTo(m.Config.ActivationGroups));
            Assert.That(loaded.Config.SameArchitecture(m.Config), Is.True);
            Assert.That(loaded.Vocabulary, Is.EqualTo(m.Vocabulary));
            Assert.That(loaded.Folded, Is.EqualTo(m.Folded));
            Assert.That(loaded.Tensors.Keys, Is.EquivalentTo(m.Tensors.Keys));
            foreach (var (key, data) in m.Tensors)
                Assert.That(loaded.Tensors[key].Select(BitConverter.SingleToInt32Bits), Is.EqualTo(data.Select(BitConverter.SingleToInt32Bits)), key);

            // A reloaded model predicts bit-identically.
            var c = m.Config;
            int[]? ids = c.IsDense ? null : ExportTestModels.Contexts(c, 50, 3);
            float[]? x = c.IsDense ? ExportTestModels.Features(c, 50, 3) : null;
            Assert.That(ExportTestModels.Logits(loaded, ids, x, 50), Is.EqualTo(ExportTestModels.Logits(m, ids, x, 50)));
        }
    }

    [Test]
    public void Save_WritesTheDocumentedMetadata()
    {
        string path = Path.Combine(_dir, "m.safetensors");
        ModelFile.Save(path, ExportTestModels.Random("post-bn-outputbn"));
        var meta = SafeTensors.Read(path).Metadata;
        Assert.That(meta["format"], Is.EqualTo("bnmlp/1"));
        Assert.That(meta["folded"], Is.EqualTo("false"));
        Assert.That(meta["vocabulary"], Is.EqualTo("[\".\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"]"));
        Assert.That(meta["config"], Is.EqualTo(
            "{\"context_length\":3,\"vocabulary_size\":8,\"embedding_width\":5,\"dense_input_width\":0,\"output_width\":8," +
            "\"hidden_widths\":[20,10],\"activation\":\"tanh\",\"block_style\":\"post_activation\",\"residual\":false," +
            "\"hidden_bias\":false,\"hidden_batch_norm\":true,\"output_bias\":true,\"output_batch_norm\":true," +
            "\"batch_norm_epsilon\":1E-05,\"batch_norm_momentum\":0.1}"));
    }

    [Test]
    public void Load_DenseModel_HasNoVocabulary()
    {
        string path = Path.Combine(_dir, "dense.safetensors");
        ModelFile.Save(path, ExportTestModels.Random("dense-bn-residual"));
        Assert.That(SafeTensors.Read(path).Metadata.ContainsKey("vocabulary"), Is.False);
        Assert.That(ModelFile.Load(path).Vocabulary, Is.Null);
    }

    /// <summary>Writes a file whose tensors or metadata were edited after a valid model was built.</summary>
    private string WriteEdited(Action<Dictionary<string, NamedTensor>> editTensors, Action<Dictionary<string, string>>? editMeta = null)
    {
        var model = ExportTestModels.Random("post-bn-residual");
        var tensors = TensorLayout.Expected(model.Config).ToDictionary(s => s.Name, s => new NamedTensor(s.Shape, model.Tensors[s.Name]));
        var meta = new Dictionary<string, string>
        {
            ["format"] = "bnmlp/1",
            ["config"] = MlpConfigJson.Write(model.Config),
            ["vocabulary"] = "[\".\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"]",
            ["folded"] = "false",
        };
        editTensors(tensors);
        editMeta?.Invoke(meta);
        string path = Path.Combine(_dir, $"edited-{Guid.NewGuid():N}.safetensors");
        SafeTensors.Write(path, tensors, meta);
        return path;
    }

    private static void AssertLoadFails(string path, string expected)
    {
        var ex = Assert.Throws<ModelFormatException>(() => ModelFile.Load(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain(expected));
    }

    [Test]
    public void Load_NamesAMissingTensor() =>
        AssertLoadFails(WriteEdited(t => t.Remove("hidden.2.norm.running_var")), "needs tensor(s) 'hidden.2.norm.running_var' [16], which the file lacks");

    [Test]
    public void Load_NamesAnUnexpectedTensor() =>
        AssertLoadFails(WriteEdited(t => t["hidden.9.linear.weight"] = new([1], [0f])), "tensor(s) 'hidden.9.linear.weight' are not part of the layout");

    [Test]
    public void Load_NamesATensorWhoseShapeDisagreesWithTheConfig() =>
        AssertLoadFails(WriteEdited(t => t["hidden.0.linear.weight"] = new([12, 16], t["hidden.0.linear.weight"].Data)),
            "tensor 'hidden.0.linear.weight' has shape [12, 16] but the config needs [16, 12]");

    [Test]
    public void Load_RejectsNormTensorsInAFileMarkedFolded() =>
        AssertLoadFails(WriteEdited(_ => { }, m => m["folded"] = "true"), "are not part of the folded layout");

    [TestCase("format", "safetensors/0", "the metadata 'format' is 'safetensors/0', but this version reads 'bnmlp/1'")]
    [TestCase("format", null, "the metadata has no 'format' entry")]
    [TestCase("folded", "yes", "the metadata 'folded' is 'yes', not 'true' or 'false'")]
    [TestCase("vocabulary", "[\".\",\"a\"]", "the vocabulary holds 2 symbols but the config's vocabulary size is 8")]
    [TestCase("vocabulary", "[\".\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"a\"]", "the vocabulary repeats the symbol 'a' (id 7)")]
    [TestCase("vocabulary", "{\"a\":1}", "the metadata 'vocabulary' is not a JSON array of strings")]
    [TestCase("vocabulary", null, "a symbol model needs its vocabulary of 8 symbols")]
    [TestCase("config", "{\"context_length\":3}", "metadata 'config': missing key 'vocabulary_size'")]
    [TestCase("config", "[]", "metadata 'config': a JSON Array, not an object")]
    [TestCase("extra", "1", "the metadata has an unexpected entry 'extra'")]
    public void Load_RejectsBadMetadata(string key, string? value, string expected) =>
        AssertLoadFails(WriteEdited(_ => { }, m => { if (value is null) m.Remove(key); else m[key] = value; }), expected);

    [TestCase("\"activation\":\"tanh\"", "\"activation\":\"gelu\"", "'activation' is 'gelu', not 'tanh' or 'relu'")]
    [TestCase("\"block_style\":\"post_activation\"", "\"block_style\":\"sideways\"", "'block_style' is 'sideways'")]
    [TestCase("\"hidden_widths\":[16,16,16,12]", "\"hidden_widths\":[16,-1]", "'hidden_widths' entry 1 is -1")]
    [TestCase("\"output_width\":8", "\"output_width\":0", "'output_width' is 0, not an integer in [1, 16777216]")]
    [TestCase("\"residual\":true", "\"residual\":1", "'residual' is 1, not true or false")]
    [TestCase("\"batch_norm_epsilon\":1E-05", "\"batch_norm_epsilon\":-1", "'batch_norm_epsilon' is -1")]
    [TestCase("\"context_length\":3", "\"context_length\":3,\"learning_rate\":0.1", "unexpected key 'learning_rate'")]
    [TestCase("\"context_length\":3", "\"context_length\":3,\"context_length\":4", "key 'context_length' appears twice")]
    [TestCase("\"context_length\":3", "\"context_length\":0", "a symbol model needs 'context_length', 'vocabulary_size' and 'embedding_width' of at least 1")]
    [TestCase("\"activation\":\"tanh\"", "\"activation\":\"tanh\",\"activation_groups\":[\"tanh\",\"gelu\"]", "'activation_groups' entry 1 is 'gelu', not 'tanh' or 'relu'")]
    [TestCase("\"activation\":\"tanh\"", "\"activation\":\"tanh\",\"activation_groups\":[\"tanh\",\"relu\",\"relu\"]", "'activation_groups': hidden width 0 (16) does not split into 3 equal groups")]
    [TestCase("\"activation\":\"tanh\"", "\"activation\":\"tanh\",\"activation_groups\":[]", "'activation_groups' is not an array of 1 to")]
    [TestCase("\"activation\":\"tanh\"", "\"activation\":\"tanh\",\"activation_groups\":\"relu\"", "'activation_groups' is not an array of 1 to")]
    [TestCase("\"activation\":\"tanh\"", "\"activation\":\"tanh\",\"activation_groups\":[1]", "'activation_groups' entry 0 is 1, not a string")]
    public void Load_RejectsAnInvalidConfig_NamingTheKey(string from, string to, string expected)
    {
        string path = WriteEdited(_ => { }, m =>
        {
            Assert.That(m["config"], Does.Contain(from));
            m["config"] = m["config"].Replace(from, to);
        });
        AssertLoadFails(path, expected);
    }

    [Test]
    public void Save_RefusesTensorsThatDoNotMatchTheLayout()
    {
        var model = ExportTestModels.Random("post-bn-residual");
        var missing = model with { Tensors = model.Tensors.Where(p => p.Key != "output.bias").ToDictionary() };
        var ex = Assert.Throws<ArgumentException>(() => ModelFile.Save(Path.Combine(_dir, "m.safetensors"), missing));
        Assert.That(ex!.Message, Does.Contain("tensor 'output.bias' [8] is missing"));

        var extra = model with { Tensors = model.Tensors.Append(new("hidden.0.affine.weight", new float[12])).ToDictionary() };
        ex = Assert.Throws<ArgumentException>(() => ModelFile.Save(Path.Combine(_dir, "m.safetensors"), extra));
        Assert.That(ex!.Message, Does.Contain("'hidden.0.affine.weight' are not part of the layout"));
        Assert.That(Directory.GetFiles(_dir), Is.Empty);
    }

    [Test]
    public void Load_ReportsSafetensorsLevelDamageToo()
    {
        string path = Path.Combine(_dir, "m.safetensors");
        ModelFile.Save(path, ExportTestModels.Random("pre-bn-plain"));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^8]);
        var ex = Assert.Throws<ModelFormatException>(() => ModelFile.Load(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("beyond the"));
        File.WriteAllBytes(path, Encoding.UTF8.GetBytes("garbage!garbage!"));
        ex = Assert.Throws<ModelFormatException>(() => ModelFile.Load(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("does not fit"));
    }
}
