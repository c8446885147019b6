using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Training;

/// <summary>
/// An ensemble run is K single runs from seeds s, s+1, ... merged: member 0 is bit-identical to the single run at s,
/// the merged network does not depend on how many members trained at once, and its validation loss is the merged
/// network's, below its members' mean.
/// </summary>
public class EnsembleTrainingTests
{
    private static readonly MlpConfig Config = new()
    {
        ContextLength = 3, VocabularySize = 7, EmbeddingWidth = 4, OutputWidth = 7, HiddenWidths = [24, 24], Residual = true,
    };

    // Labels a noisy function of the context, so that there is something to learn and members disagree where it is noisy.
    private static Dataset Data(int rows, ulong seed)
    {
        var rng = new Rng(seed);
        var ids = new int[rows * 3]; var labels = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < 3; j++) ids[r * 3 + j] = rng.NextInt(7);
            labels[r] = rng.NextFloat() < 0.7f ? (ids[r * 3] + 2 * ids[r * 3 + 2]) % 7 : rng.NextInt(7);
        }
        return Dataset.FromContexts(ids, 3, labels);
    }

    private static TrainingOptions Options(int members) => new()
    {
        Steps = 150, BatchSize = 32, Optimizer = OptimizerKind.Adam, LearningRate = new ConstantSchedule(0.01), Seed = 5, ProgressEvery = 150,
        Dropout = 0.1f, EmaDecay = 0.9f, CalibrateAfterTraining = true, EnsembleMembers = members,
    };

    [Test]
    public void MemberZero_IsTheSingleRun_AndTheMergedNetworkIsTheMeanOfTheMembers()
    {
        Dataset train = Data(600, 1), dev = Data(200, 2);
        var ensemble = EnsembleTraining.Train(Config, new InitOptions(), Options(3), 11, train, dev, concurrency: 2);
        Assert.That(ensemble.Members, Has.Count.EqualTo(3));
        Assert.That(ensemble.Network.Config.HiddenWidths, Is.EqualTo(new[] { 72, 72 }));

        // The members again, one at a time, as single runs of seeds 11 + m (init) and 5 + m (sampler, dropout).
        var singles = new List<MlpNetwork>();
        for (int m = 0; m < 3; m++)
        {
            var net = new MlpNetwork(Config);
            Initialization.Initialize(net, new InitOptions(), new Rng(11 + (ulong)m));
            using var trainer = new Trainer(net, Options(1) with { Seed = 5 + (ulong)m });
            var r = trainer.Train(train, dev);
            Assert.That(r.ValidationLoss, Is.EqualTo(ensemble.Members[m].ValidationLoss), $"member {m} is the single run of its seeds");
            singles.Add(net);
        }
        var expected = EnsembleMerge.Merge(Config, singles.Select(n => (IReadOnlyDictionary<string, float[]>)n.Tensors.ToDictionary(t => t.Name, t => t.Data)).ToArray());
        foreach (var t in ensemble.Network.Tensors)
            Assert.That(t.Data, Is.EqualTo(expected[t.Name]), t.Name);

        double meanMember = ensemble.Members.Average(r => r.ValidationLoss!.Value);
        Assert.That(ensemble.ValidationLoss, Is.EqualTo(ensemble.Network.Evaluate(dev)).Within(1e-12));
        Assert.That(ensemble.ValidationLoss, Is.LessThan(meanMember), "averaging disagreeing members' logits lowers the loss below their mean");
        TestContext.Out.WriteLine($"members {string.Join(" ", ensemble.Members.Select(r => r.ValidationLoss!.Value.ToString("F4")))}; merged {ensemble.ValidationLoss:F4}");
    }

    [Test]
    public void MembersTakeTheActivationsInTurn_AndMergeIntoTheirGroups()
    {
        Dataset train = Data(500, 6), dev = Data(200, 7);
        var options = Options(3) with { EnsembleActivations = [Activation.Tanh, Activation.Relu] };
        Assert.That(Enumerable.Range(0, 3).Select(m => EnsembleTraining.MemberConfig(Config, options, m).Activation),
            Is.EqualTo(new[] { Activation.Tanh, Activation.Relu, Activation.Tanh }), "member m: entry m mod count");
        var ensemble = EnsembleTraining.Train(Config, new InitOptions(), options, 11, train, dev, concurrency: 2);
        Assert.That(ensemble.Network.Config.ActivationGroups, Is.EqualTo(new[] { Activation.Tanh, Activation.Relu, Activation.Tanh }));
        Assert.That(EnsembleTraining.MergedConfig(Config, options).SameArchitecture(ensemble.Network.Config), Is.True);

        // Member 1 is the single ReLU run of its seeds; the merged network averages the members, groups and all.
        var relu = new MlpNetwork(Config with { Activation = Activation.Relu });
        Initialization.Initialize(relu, new InitOptions(), new Rng(12));
        using (var trainer = new Trainer(relu, Options(1) with { Seed = 6 }))
            Assert.That(trainer.Train(train, dev).ValidationLoss, Is.EqualTo(ensemble.Members[1].ValidationLoss));
        Assert.That(ensemble.ValidationLoss, Is.EqualTo(ensemble.Network.Evaluate(dev)).Within(1e-12));
        Assert.That(ensemble.ValidationLoss, Is.LessThan(ensemble.Members.Average(r => r.ValidationLoss!.Value)));

        Assert.Throws<ArgumentException>(() => (Options(2) with { EnsembleActivations = [] }).Validate());
        Assert.Throws<ArgumentException>(() => (Options(2) with { EnsembleActivations = [(Activation)7] }).Validate());
    }

    [Test]
    public void TheMergedNetwork_DoesNotDependOnHowManyMembersTrainAtOnce()
    {
        Dataset train = Data(400, 3);
        var one = EnsembleTraining.Train(Config, new InitOptions(), Options(3), 7, train, null, concurrency: 1);
        var three = EnsembleTraining.Train(Config, new InitOptions(), Options(3), 7, train, null, concurrency: 3);
        for (int i = 0; i < one.Network.Tensors.Count; i++)
            Assert.That(three.Network.Tensors[i].Data, Is.EqualTo(one.Network.Tensors[i].Data), one.Network.Tensors[i].Name);
        Assert.That(one.ValidationLoss, Is.Null);
    }

    [Test]
    public void ATrainer_RefusesSeveralMembers_AndAnEnsembleRefusesCheckpointsAndUnmergeableNetworks()
    {
        var net = new MlpNetwork(Config);
        var ex = Assert.Throws<ArgumentException>(() => new Trainer(net, Options(2)));
        Assert.That(ex!.Message, Does.Contain("A Trainer trains one network; 2 ensemble members train through EnsembleTraining"));

        Dataset train = Data(100, 4);
        ex = Assert.Throws<ArgumentException>(() => EnsembleTraining.Train(Config, new InitOptions(), Options(2) with { CheckpointPath = "x.safetensors" }, 1, train, null));
        Assert.That(ex!.Message, Does.Contain("An ensemble run takes no checkpoints"));
        ex = Assert.Throws<ArgumentException>(() => EnsembleTraining.Train(Config with { OutputBatchNorm = true }, new InitOptions(), Options(2), 1, train, null));
        Assert.That(ex!.Message, Does.Contain("output BatchNorm"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Options(0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => Options(TrainingOptions.MaxEnsembleMembers + 1).Validate());
    }

    [Test]
    public void AFailingMember_StopsTheRun_WithItsOwnError_NotTheCancellationsItCauses()
    {
        // Step 4's rate is infinite as a float: every member's update overflows there.
        Dataset train = Data(300, 5);
        var options = Options(4) with { LearningRate = new StepDecaySchedule(0.1, 1e40, AtStep: 4), Optimizer = OptimizerKind.Sgd, EmaDecay = 0 };
        var ex = Assert.Throws<NonFiniteLossException>(() => EnsembleTraining.Train(Config, new InitOptions(), options, 1, train, null, concurrency: 2));
        Assert.That(ex!.Step, Is.InRange(4, 5), "the overflowing update, or the loss after it");

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.That(() => EnsembleTraining.Train(Config, new InitOptions(), Options(2), 1, train, null, cancellation: cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
    }
}
