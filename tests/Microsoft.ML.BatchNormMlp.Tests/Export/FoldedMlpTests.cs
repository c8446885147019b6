using Microsoft.ML.BatchNormMlp.Export;

namespace Microsoft.ML.BatchNormMlp.Tests.Export;

public class FoldedMlpTests
{
    [Test]
    public void Forward_LargeBatch_EqualsRowByRow()
    {
        var folded = BatchNormFolding.Fold(ExportTestModels.Random("post-bn-residual"));
        var c = folded.Config;
        var mlp = new FoldedMlp(folded);
        const int rows = FoldedMlp.ChunkRows * 2 + 37;
        var ids = ExportTestModels.Contexts(c, rows, 9);

        var batch = mlp.Forward(ids, rows);
        for (int r = 0; r < rows; r += 13)
        {
            var single = mlp.Forward(ids.AsSpan(r * c.ContextLength, c.ContextLength), 1);
            Assert.That(single, Is.EqualTo(batch.AsSpan(r * c.OutputWidth, c.OutputWidth).ToArray()), $"row {r}");
        }
    }

    [Test]
    public void Forward_ConcurrentCallsFromManyThreads_MatchSequentialResults()
    {
        var folded = BatchNormFolding.Fold(ExportTestModels.Random("pre-bn-residual"));
        var mlp = new FoldedMlp(folded);
        var inputs = Enumerable.Range(0, 32).Select(i => ExportTestModels.Contexts(folded.Config, 50 + 40 * i, (ulong)i)).ToArray();
        var sequential = inputs.Select(ids => mlp.Forward(ids, ids.Length / folded.Config.ContextLength)).ToArray();

        var parallel = new float[inputs.Length][];
        Parallel.For(0, inputs.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            int i = k % inputs.Length;
            var result = mlp.Forward(inputs[i], inputs[i].Length / folded.Config.ContextLength);
            lock (parallel) { if (parallel[i] is null) parallel[i] = result; else Assert.That(result, Is.EqualTo(parallel[i])); }
        });
        for (int i = 0; i < inputs.Length; i++) Assert.That(parallel[i], Is.EqualTo(sequential[i]), $"input {i}");
    }

    [Test]
    public void Forward_RejectsAnIdOutsideTheVocabulary_NamingRowAndPosition()
    {
        var mlp = new FoldedMlp(BatchNormFolding.Fold(ExportTestModels.Random("post-bn-outputbn")));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => mlp.Forward([0, 1, 2, 3, 8, 0], 2));
        Assert.That(ex!.Message, Does.Contain("Row 1, position 1 holds symbol id 8, outside the vocabulary [0, 8)"));
    }

    [Test]
    public void Forward_RejectsTheWrongInputKindAndLength()
    {
        var dense = new FoldedMlp(BatchNormFolding.Fold(ExportTestModels.Random("dense-bn-residual")));
        var ex = Assert.Throws<InvalidOperationException>(() => dense.Forward([1, 2, 3], 1));
        Assert.That(ex!.Message, Does.Contain("reads dense float rows"));
        var ex2 = Assert.Throws<ArgumentException>(() => dense.ForwardDense(new float[39], 1));
        Assert.That(ex2!.Message, Does.Contain("holds 39 values; 1 rows need 40"));
    }

    [Test]
    public void Constructor_RefusesAnUnfoldedModel()
    {
        var ex = Assert.Throws<ArgumentException>(() => new FoldedMlp(ExportTestModels.Random("post-bn-outputbn")));
        Assert.That(ex!.Message, Does.Contain("needs a folded model"));
    }
}
