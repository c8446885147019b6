using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests.Export;

public class BatchNormFoldingTests
{
    private static float[] Random(Rng rng, int n, float scale = 1f, float offset = 0f) =>
        Enumerable.Range(0, n).Select(_ => offset + scale * rng.NextGaussian()).ToArray();

    [TestCase(true)]
    [TestCase(false)]
    public void FoldIntoLinear_MatchesBatchNormOfLinear(bool withBias)
    {
        const int rows = 64, inputs = 30, outputs = 17;
        const float eps = 1e-5f;
        var rng = new Rng(5);
        var x = Random(rng, rows * inputs);
        var w = Random(rng, outputs * inputs, 0.3f);
        float[]? b = withBias ? Random(rng, outputs) : null;
        var norm = new BatchNormFolding.NormTensors(Random(rng, outputs, 0.5f, 1f), Random(rng, outputs), Random(rng, outputs),
            Enumerable.Range(0, outputs).Select(_ => 0.01f + rng.NextFloat() * 3).ToArray(), "test.norm");

        var (fw, fb) = BatchNormFolding.FoldIntoLinear(w, b, norm, eps, outputs, inputs);

        double worst = 0;
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outputs; o++)
            {
                double lin = b?[o] ?? 0, folded = fb[o];
                for (int k = 0; k < inputs; k++)
                {
                    lin += (double)x[r * inputs + k] * w[o * inputs + k];
                    folded += (double)x[r * inputs + k] * fw[o * inputs + k];
                }
                double bn = (lin - norm.Mean[o]) / Math.Sqrt(norm.Var[o] + eps) * norm.Gamma[o] + norm.Beta[o];
                worst = Math.Max(worst, Math.Abs(bn - folded));
            }
        Assert.That(worst, Is.LessThan(1e-5));
    }

    [Test]
    public void ToAffine_MatchesBatchNorm()
    {
        var rng = new Rng(6);
        const int n = 40;
        var norm = new BatchNormFolding.NormTensors(Random(rng, n, 0.5f, 1f), Random(rng, n), Random(rng, n),
            Enumerable.Range(0, n).Select(_ => 0.01f + rng.NextFloat()).ToArray(), "test.norm");
        var (scale, shift) = BatchNormFolding.ToAffine(norm, 1e-3f);
        for (int trial = 0; trial < 10; trial++)
        {
            var x = Random(rng, n, 2f);
            for (int j = 0; j < n; j++)
            {
                double bn = (x[j] - norm.Mean[j]) / Math.Sqrt(norm.Var[j] + 1e-3) * norm.Gamma[j] + norm.Beta[j];
                Assert.That(x[j] * (double)scale[j] + shift[j], Is.EqualTo(bn).Within(1e-5), $"feature {j}");
            }
        }
    }

    [TestCaseSource(typeof(ExportTestModels), nameof(ExportTestModels.NamesWithGroups))]
    public void FoldedNetwork_MatchesTheUnfoldedNetworkInEvaluationMode(string name)
    {
        var model = ExportTestModels.Random(name, seed: 21);
        var folded = BatchNormFolding.Fold(model);
        var c = model.Config;
        const int rows = 600; // several FoldedMlp chunks
        int[]? ids = c.IsDense ? null : ExportTestModels.Contexts(c, rows, 1);
        float[]? x = c.IsDense ? ExportTestModels.Features(c, rows, 1) : null;

        var reference = ExportTestModels.NetworkForward(model, ids, x, rows);
        var fast = ExportTestModels.Logits(folded, ids, x, rows);

        Assert.That(ExportTestModels.MaxAbsDifference(reference, fast), Is.LessThan(1e-5));
        Assert.That(reference.Select(Math.Abs).Max(), Is.GreaterThan(0.5f), "logits must not be trivially small");
    }

    [TestCaseSource(typeof(ExportTestModels), nameof(ExportTestModels.NamesWithGroups))]
    public void FoldedTensors_FollowTheFoldedLayout_WithNoNormTensors(string name)
    {
        var folded = BatchNormFolding.Fold(ExportTestModels.Random(name));
        var layout = TensorLayout.ExpectedFolded(folded.Config);
        Assert.That(folded.Folded, Is.True);
        Assert.That(folded.Tensors.Keys, Is.EquivalentTo(layout.Select(s => s.Name)));
        Assert.That(folded.Tensors.Keys.Where(k => k.Contains("norm")), Is.Empty);
        foreach (var spec in layout)
            Assert.That(folded.Tensors[spec.Name], Has.Length.EqualTo(spec.ElementCount), spec.Name);
    }

    [Test]
    public void FoldedLayout_PreActivation_HasAffinePerNormalizedBlock_AndPostActivationIsPlainLinear()
    {
        var pre = ExportTestModels.Config("pre-bn-residual");
        var names = TensorLayout.ExpectedFolded(pre).Select(s => s.Name).ToList();
        Assert.That(names.Where(n => n.Contains("affine")), Is.EqualTo(new[] { "hidden.1.affine.weight", "hidden.1.affine.bias", "hidden.2.affine.weight", "hidden.2.affine.bias" }));
        Assert.That(TensorLayout.ExpectedFolded(pre).Single(s => s.Name == "hidden.1.affine.weight").Shape, Is.EqualTo(new[] { 16 }));

        // A folded post-activation model is exactly a BN-free model whose Linears all have biases.
        var post = ExportTestModels.Config("post-bn-outputbn");
        var plain = post with { HiddenBatchNorm = false, OutputBatchNorm = false, HiddenBias = true, OutputBias = true };
        Assert.That(TensorLayout.ExpectedFolded(post).Select(s => (s.Name, string.Join(",", s.Shape))),
            Is.EqualTo(TensorLayout.Expected(plain).Select(s => (s.Name, string.Join(",", s.Shape)))));
    }

    [Test]
    public void Fold_OnlyOutputNorm_LeavesHiddenLayersUntouched()
    {
        var c = ExportTestModels.Config("pre-bn-plain") with { HiddenBatchNorm = false };
        var model = ExportTestModels.Random(c, 3);
        var folded = BatchNormFolding.Fold(model);
        Assert.That(folded.Tensors.Keys.Where(k => k.Contains("affine")), Is.Empty);
        Assert.That(folded.Tensors["hidden.1.linear.weight"], Is.EqualTo(model.Tensors["hidden.1.linear.weight"]));
        var ids = ExportTestModels.Contexts(c, 20, 2);
        Assert.That(ExportTestModels.MaxAbsDifference(ExportTestModels.NetworkForward(model, ids, null, 20), ExportTestModels.Logits(folded, ids, null, 20)), Is.LessThan(1e-5));
    }

    [Test]
    public void Fold_RefusesAModelWithoutBatchNorm()
    {
        var c = ExportTestModels.Config("post-bn-residual") with { HiddenBatchNorm = false, OutputBatchNorm = false };
        var ex = Assert.Throws<InvalidOperationException>(() => BatchNormFolding.Fold(ExportTestModels.Random(c, 1)));
        Assert.That(ex!.Message, Does.Contain("has no BatchNorm layers, so it has no running statistics to fold"));

        // A pre-activation stem alone has no norm either.
        var stemOnly = ExportTestModels.Config("pre-bn-plain") with { HiddenWidths = [12], OutputBatchNorm = false };
        ex = Assert.Throws<InvalidOperationException>(() => BatchNormFolding.Fold(ExportTestModels.Random(stemOnly, 1)));
        Assert.That(ex!.Message, Does.Contain("no running statistics"));
    }

    [Test]
    public void Fold_RefusesAModelMissingItsRunningStatistics()
    {
        var model = ExportTestModels.Random("post-bn-outputbn");
        var stripped = model with { Tensors = model.Tensors.Where(p => !p.Key.EndsWith("running_mean")).ToDictionary() };
        var ex = Assert.Throws<InvalidOperationException>(() => BatchNormFolding.Fold(stripped));
        Assert.That(ex!.Message, Does.Contain("tensor 'hidden.0.norm.running_mean' is missing (no running statistics: was the model trained?)"));
    }

    [Test]
    public void Fold_RefusesNegativeVarianceAndAnAlreadyFoldedModel()
    {
        var model = ExportTestModels.Random("post-bn-outputbn");
        var tensors = model.Tensors.ToDictionary();
        tensors["output_norm.running_var"] = (float[])tensors["output_norm.running_var"].Clone();
        tensors["output_norm.running_var"][3] = -1f;
        var ex = Assert.Throws<InvalidOperationException>(() => BatchNormFolding.Fold(model with { Tensors = tensors }));
        Assert.That(ex!.Message, Is.EqualTo("Cannot fold: tensor 'output_norm.running_var' holds the negative variance -1 at index 3."));

        var folded = BatchNormFolding.Fold(model);
        ex = Assert.Throws<InvalidOperationException>(() => BatchNormFolding.Fold(folded));
        Assert.That(ex!.Message, Does.Contain("already folded"));
    }

    [Test]
    public void Fold_DoesNotModifyTheInput()
    {
        var model = ExportTestModels.Random("post-bn-residual");
        var before = model.Tensors.ToDictionary(p => p.Key, p => (float[])p.Value.Clone());
        BatchNormFolding.Fold(model);
        foreach (var (k, v) in before) Assert.That(model.Tensors[k], Is.EqualTo(v), k);
    }
}
