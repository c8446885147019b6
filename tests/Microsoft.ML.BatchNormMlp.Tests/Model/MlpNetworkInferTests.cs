using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Tests.Export;

namespace Microsoft.ML.BatchNormMlp.Tests.Model;

public class MlpNetworkInferTests
{
    [TestCaseSource(typeof(ExportTestModels), nameof(ExportTestModels.NamesWithGroups))]
    public void Infer_IsBitIdenticalToEvaluationForward_AndWritesNoNetworkState(string name)
    {
        var state = ExportTestModels.Random(name, seed: 4);
        var c = state.Config;
        var network = new MlpNetwork(c);
        StateDictionary.Load(network, TensorLayout.Expected(c).Select(s => new TensorValue(s.Name, s.Shape, state.Tensors[s.Name])));
        const int rows = 37;
        int[]? ids = c.IsDense ? null : ExportTestModels.Contexts(c, rows, 2);
        float[]? x = c.IsDense ? ExportTestModels.Features(c, rows, 2) : null;
        NetworkInput Input() => ids is null ? NetworkInput.Dense(x) : NetworkInput.Ids(ids);

        var before = StateDictionary.Get(network);
        var inferred = network.Infer(Input(), rows, new Workspace(network, rows, forwardOnly: true)).ToArray();
        Assert.That(network.LastWorkspace, Is.Null, "Infer leaves the network's own workspaces alone");
        var forward = network.Forward(Input(), rows, training: false).ToArray();
        Assert.That(inferred.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(forward.Select(BitConverter.SingleToInt32Bits)));
        var after = StateDictionary.Get(network);
        for (int i = 0; i < before.Count; i++) Assert.That(after[i].Data, Is.EqualTo(before[i].Data), before[i].Name);
    }

    [Test]
    public void Infer_RefusesATrainingWorkspaceOrAnotherBatchSize()
    {
        var network = new MlpNetwork(ExportTestModels.Config("post-bn-residual"));
        Initialization.Initialize(network, new InitOptions(), new Rng(1));
        var ids = new int[4 * 3];
        var ex = Assert.Throws<ArgumentException>(() => network.Infer(NetworkInput.Ids(ids), 4, new Workspace(network, 4)));
        Assert.That(ex!.Message, Does.Contain("Infer needs a forward-only workspace of 4 rows; got a training one of 4"));
        ex = Assert.Throws<ArgumentException>(() => network.Infer(NetworkInput.Ids(ids), 4, new Workspace(network, 8, forwardOnly: true)));
        Assert.That(ex!.Message, Does.Contain("got one of 8"));
    }
}
