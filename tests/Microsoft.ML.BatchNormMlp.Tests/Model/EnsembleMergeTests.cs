using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Export.Onnx;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Tests.Export;

namespace Microsoft.ML.BatchNormMlp.Tests.Model;

/// <summary>
/// A merged network computes the mean of its members' logits: for post- and pre-activation blocks, residual and plain,
/// character and dense inputs, one to three members; folded too; and what cannot merge says why.
/// </summary>
public class EnsembleMergeTests
{
    private static readonly string[] Mergeable = ["post-bn-residual", "pre-bn-residual", "dense-bn-residual", "pre-bn-plain-no-output-bn", "post-no-bn"];

    private static MlpConfig Config(string name) => name switch
    {
        "pre-bn-plain-no-output-bn" => ExportTestModels.Config("pre-bn-plain") with { OutputBatchNorm = false, OutputBias = true },
        "post-no-bn" => ExportTestModels.Config("post-bn-residual") with { HiddenBatchNorm = false, Activation = Activation.Relu },
        _ => ExportTestModels.Config(name),
    };

    private static float[] MeanLogits(IReadOnlyList<ModelState> members, int[]? ids, float[]? x, int rows)
    {
        var sum = new double[rows * members[0].Config.OutputWidth];
        foreach (var m in members)
        {
            var logits = ExportTestModels.NetworkForward(m, ids, x, rows);
            for (int i = 0; i < sum.Length; i++) sum[i] += logits[i];
        }
        return sum.Select(s => (float)(s / members.Count)).ToArray();
    }

    [Test]
    public void MergedNetwork_ComputesTheMeanOfItsMembersLogits([ValueSource(nameof(Mergeable))] string name, [Values(1, 2, 3)] int k)
    {
        var c = Config(name);
        var members = Enumerable.Range(0, k).Select(m => ExportTestModels.Random(c, seed: 10 + (ulong)m)).ToArray();
        var merged = EnsembleMerge.Merge(c, members.Select(m => m.Tensors).ToArray());
        var mergedConfig = EnsembleMerge.Config(c, k);
        Assert.That(mergedConfig.HiddenWidths, Is.EqualTo(c.HiddenWidths.Select(w => w * k)));
        Assert.That(mergedConfig.InputWidth, Is.EqualTo(c.IsDense ? c.InputWidth : c.InputWidth * k));
        var state = new ModelState(mergedConfig, members[0].Vocabulary, false, merged);

        const int rows = 29;
        int[]? ids = c.IsDense ? null : ExportTestModels.Contexts(c, rows, 3);
        float[]? x = c.IsDense ? ExportTestModels.Features(c, rows, 3) : null;
        var expected = MeanLogits(members, ids, x, rows);
        var actual = ExportTestModels.NetworkForward(state, ids, x, rows);
        double scale = expected.Max(v => Math.Abs(v));
        Assert.That(ExportTestModels.MaxAbsDifference(actual, expected), Is.LessThan(2e-6 * Math.Max(1, scale)),
            "the zero blocks keep the members apart and the output averages them (float32 rounding only)");

        if (c.HiddenBatchNorm)
        {
            var folded = BatchNormFolding.Fold(state);
            Assert.That(ExportTestModels.MaxAbsDifference(ExportTestModels.Logits(folded, ids, x, rows), expected), Is.LessThan(1e-4 * Math.Max(1, scale)),
                "the merged model folds like any other");
        }
    }

    // Members of different activations (the quality preset merges tanh and ReLU networks): the merged network's
    // activation groups give each member's block its own, unfolded, folded and in ONNX Runtime.
    [TestCase("post-bn-residual", new[] { Activation.Tanh, Activation.Relu })]
    [TestCase("post-bn-residual", new[] { Activation.Relu, Activation.Tanh, Activation.Tanh })]
    [TestCase("pre-bn-residual", new[] { Activation.Tanh, Activation.Relu })]
    [TestCase("dense-bn-residual", new[] { Activation.Relu, Activation.Tanh })]
    [TestCase("post-no-bn", new[] { Activation.Tanh, Activation.Relu })]
    public void MembersOfDifferentActivations_MergeIntoActivationGroups_ThatComputeTheMeanOfTheirLogits(string name, Activation[] activations)
    {
        var c = Config(name);
        var configs = activations.Select(a => c with { Activation = a }).ToArray();
        var members = configs.Select((m, i) => ExportTestModels.Random(m, seed: 40 + (ulong)i)).ToArray();
        var mergedConfig = EnsembleMerge.Config(configs);
        Assert.That(mergedConfig.ActivationGroups, Is.EqualTo(activations));
        var state = new ModelState(mergedConfig, members[0].Vocabulary, false, EnsembleMerge.Merge(c, members.Select(m => m.Tensors).ToArray()));

        const int rows = 31;
        int[]? ids = c.IsDense ? null : ExportTestModels.Contexts(c, rows, 5);
        float[]? x = c.IsDense ? ExportTestModels.Features(c, rows, 5) : null;
        var expected = MeanLogits(members, ids, x, rows);
        double scale = Math.Max(1, expected.Max(v => Math.Abs(v)));
        Assert.That(ExportTestModels.MaxAbsDifference(ExportTestModels.NetworkForward(state, ids, x, rows), expected), Is.LessThan(2e-6 * scale));
        var single = ExportTestModels.NetworkForward(new ModelState(mergedConfig with { ActivationGroups = null }, state.Vocabulary, false, state.Tensors), ids, x, rows);
        Assert.That(ExportTestModels.MaxAbsDifference(single, expected), Is.GreaterThan(1e-3 * scale), "one activation for all the blocks computes something else: the groups matter");

        var model = c.HiddenBatchNorm ? BatchNormFolding.Fold(state) : state;
        Assert.That(ExportTestModels.MaxAbsDifference(ExportTestModels.Logits(model, ids, x, rows), expected), Is.LessThan(1e-4 * scale), "folded");
        string dir = ExportTestModels.TempDirectory();
        try
        {
            string onnx = Path.Combine(dir, "merged.onnx");
            OnnxExport.Save(onnx, model);
            var ort = OnnxExportTests.RunOnnxRuntime(onnx, ids, x, rows, c.IsDense ? c.DenseInputWidth : c.ContextLength)[OnnxExport.LogitsOutput].Data;
            Assert.That(ExportTestModels.MaxAbsDifference(ort, expected), Is.LessThan(1e-4 * scale), "ONNX Runtime: Split, each group's op, Concat");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void MergedModelsMerge_TheirGroupsOneAfterAnother_AndGroupsOfAnotherCountAreRefused()
    {
        var c = Config("post-bn-residual");
        var tanhRelu = EnsembleMerge.Config([c, c with { Activation = Activation.Relu }]);
        var reluTanh = EnsembleMerge.Config([c with { Activation = Activation.Relu }, c]);
        Assert.That(EnsembleMerge.Config([tanhRelu, reluTanh]).ActivationGroups, Is.EqualTo(new[] { Activation.Tanh, Activation.Relu, Activation.Relu, Activation.Tanh }));
        Assert.That(EnsembleMerge.Config([c, c]).ActivationGroups, Is.Null, "members of one activation make no groups");
        var twoTanh = EnsembleMerge.Config(c, 2);
        var ex = Assert.Throws<ArgumentException>(() => EnsembleMerge.Config([tanhRelu, twoTanh]));
        Assert.That(ex!.Message, Does.Contain("Member 1 has another architecture than member 0").And.Contain("as many activation groups"));
        ex = Assert.Throws<ArgumentException>(() => EnsembleMerge.Config([c, c with { Activation = Activation.Relu, EmbeddingWidth = 5 }]));
        Assert.That(ex!.Message, Does.Contain("Member 1 has another architecture"));
    }

    [Test]
    public void HiddenLinearLayers_AreBlockDiagonal_AndTheEmbeddingInterleavesMembersWithinEachPosition()
    {
        var c = Config("post-bn-residual");   // context 3, embedding 4, widths 16,16,16,12
        var a = ExportTestModels.Random(c, 1); var b = ExportTestModels.Random(c, 2);
        var merged = EnsembleMerge.Merge(c, [a.Tensors, b.Tensors]);
        // Layer 1 [32, 32]: member 1's block is rows 16..31, columns 16..31; the off-diagonal blocks are zero.
        var w = merged["hidden.1.linear.weight"];
        Assert.That(w[3 * 32 + 20], Is.Zero);
        Assert.That(w[20 * 32 + 3], Is.Zero);
        Assert.That(w[20 * 32 + 19], Is.EqualTo(b.Tensors["hidden.1.linear.weight"][4 * 16 + 3]));
        // Embedding [8, 8]: member 1's vector of symbol 5 in columns 4..7.
        Assert.That(merged["embedding.weight"][5 * 8 + 6], Is.EqualTo(b.Tensors["embedding.weight"][5 * 4 + 2]));
        // First layer reads [position][member][e]: member 0's weight for position 2, e 1 at column 2·8 + 0·4 + 1.
        Assert.That(merged["hidden.0.linear.weight"][7 * 24 + 17], Is.EqualTo(a.Tensors["hidden.0.linear.weight"][7 * 12 + 2 * 4 + 1]));
        Assert.That(merged["hidden.0.linear.weight"][7 * 24 + 21], Is.Zero, "member 0's row does not read member 1's columns");
    }

    [Test]
    public void Refuses_AnOutputBatchNorm_NoHiddenLayer_AndAMemberOfAnotherShape()
    {
        var withOutputNorm = ExportTestModels.Config("post-bn-outputbn");
        var ex = Assert.Throws<ArgumentException>(() => EnsembleMerge.Config(withOutputNorm, 2));
        Assert.That(ex!.Message, Does.Contain("output BatchNorm"));
        ex = Assert.Throws<ArgumentException>(() => EnsembleMerge.Config(withOutputNorm with { OutputBatchNorm = false, HiddenWidths = [] }, 2));
        Assert.That(ex!.Message, Does.Contain("without hidden layers"));

        var c = Config("post-bn-residual");
        var other = ExportTestModels.Random(c with { EmbeddingWidth = 5 }, 2);
        ex = Assert.Throws<ArgumentException>(() => EnsembleMerge.Merge(c, [ExportTestModels.Random(c, 1).Tensors, other.Tensors]));
        Assert.That(ex!.Message, Does.Contain("Member 1 has no tensor 'embedding.weight' of 32 values"));
    }
}
