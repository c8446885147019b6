using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests.Model;

public class StateDictionaryTests
{
    private static readonly MlpConfig Config = new() { VocabularySize = 5, EmbeddingWidth = 2, OutputWidth = 5, HiddenWidths = [4], OutputBatchNorm = true };

    private static MlpNetwork Seeded(ulong seed)
    {
        var net = new MlpNetwork(Config);
        Initialization.Initialize(net, new InitOptions(), new Rng(seed));
        return net;
    }

    [Test]
    public void GetThenLoad_ReproducesTheNetworkExactly()
    {
        var source = Seeded(1);
        source.Norms[0]!.RunningMean.Data[2] = 0.75f;
        var target = Seeded(2);
        StateDictionary.Load(target, StateDictionary.Get(source));
        foreach (var (a, b) in source.Tensors.Zip(target.Tensors))
            Assert.That(b.Data, Is.EqualTo(a.Data), a.Name);
        Assert.That(StateDictionary.Find(target, "hidden.0.norm.running_mean").Data[2], Is.EqualTo(0.75f));
    }

    [Test]
    public void Get_ReturnsCopiesInLayoutOrder()
    {
        var net = Seeded(1);
        var state = StateDictionary.Get(net);
        Assert.That(state.Select(t => t.Name), Is.EqualTo(TensorLayout.Expected(Config).Select(s => s.Name)));
        state[0].Data[0] = 1234;
        Assert.That(net.Tensors[0].Data[0], Is.Not.EqualTo(1234f));
    }

    [Test]
    public void Load_ReportsMissingUnexpectedAndMisshapenTensorsByNameAndChangesNothing()
    {
        var net = Seeded(1);
        var before = StateDictionary.Get(net);
        var state = StateDictionary.Get(Seeded(2)).Where(t => t.Name != "output_norm.running_var").ToList();
        state.Add(new TensorValue("hidden.9.linear.weight", [1], [0]));
        int i = state.FindIndex(t => t.Name == "output.weight");
        state[i] = new TensorValue("output.weight", [4, 5], new float[20]);
        var ex = Assert.Throws<InvalidDataException>(() => StateDictionary.Load(net, state));
        Assert.That(ex!.Message, Does.Contain("missing tensor 'output_norm.running_var' [5]"));
        Assert.That(ex.Message, Does.Contain("unexpected tensor 'hidden.9.linear.weight'"));
        Assert.That(ex.Message, Does.Contain("tensor 'output.weight' has shape [4, 5] but the network expects [5, 4]"));
        foreach (var (t, b) in net.Tensors.Zip(before)) Assert.That(t.Data, Is.EqualTo(b.Data), t.Name + " unchanged");
    }

    [Test]
    public void Load_RejectsNonFiniteValuesNamingTensorAndIndex()
    {
        var net = Seeded(1);
        var state = StateDictionary.Get(net).ToList();
        state[1].Data[3] = float.NaN;
        var ex = Assert.Throws<InvalidDataException>(() => StateDictionary.Load(net, state));
        Assert.That(ex!.Message, Does.Contain($"tensor '{state[1].Name}' holds NaN at flat index 3"));
    }
}
