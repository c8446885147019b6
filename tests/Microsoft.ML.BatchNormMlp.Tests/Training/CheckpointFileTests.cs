using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Tests.Featurization;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Training;

/// <summary>The checkpoint file: exact round trip, refusal of another run's checkpoint by name, and of corrupt files.</summary>
public class CheckpointFileTests
{
    private static readonly MlpConfig Config = new() { ContextLength = 3, VocabularySize = 9, EmbeddingWidth = 4, OutputWidth = 9, HiddenWidths = [200] };
    private static readonly string[] Symbols = [".", "a", "b", "c", "d", "e", "f", "g", "h"];
    private static readonly TrainingOptions Options = new() { Steps = 20, BatchSize = 16, Momentum = 0.9f, LearningRate = new StepDecaySchedule(0.1), Seed = 4, ProgressEvery = 1 };

    // A checkpoint after 6 of 20 steps, written by a cancelled run.
    private static string WriteCheckpoint(TempDirectory temp, MlpConfig? config = null, TrainingOptions? options = null, Dataset? data = null, string[]? symbols = null)
    {
        string path = Path.Combine(temp.Path, "run.ckpt");
        var trainer = new Trainer(ResumeTests.Network(config ?? Config), (options ?? Options) with { CheckpointPath = path },
            symbols ?? ((config ?? Config).IsDense ? null : Symbols));
        using var cts = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => trainer.Train(data ?? ResumeTests.Data(100, 1), null, new Stopper(6, cts), cts.Token));
        return path;
    }

    private sealed class Stopper(int step, CancellationTokenSource cts) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) { if (value.Step == step) cts.Cancel(); }
    }

    private static InvalidDataException RefusedResume(string path, MlpConfig config, TrainingOptions options, string[]? symbols, Dataset data)
    {
        var net = ResumeTests.Network(config);
        var before = ResumeTests.Bits(net);
        var ex = Assert.Throws<InvalidDataException>(() => new Trainer(net, options, symbols).Resume(path, data))!;
        Assert.That(ResumeTests.Bits(net), Is.EqualTo(before), "a refused checkpoint changes nothing");
        Assert.That(ex.Message, Does.StartWith($"Cannot resume from '{path}': the checkpoint has "));
        return ex;
    }

    [Test]
    public void SaveAndLoad_RoundTripEveryValueExactly()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "exact.ckpt");
        var net = ResumeTests.Network();
        var sgd = new Sgd(net.Parameters, momentum: 0.9f);
        foreach (var p in net.Parameters) p.Grad.AsSpan().Fill(0.25f);
        sgd.Step(0.1f);
        net.Norms[0]!.RunningVar.Data[3] = -0f;   // the sign of zero survives too
        var sampler = new RngState(1, ulong.MaxValue, 0x0123456789abcdef, 42, BitConverter.Int32BitsToSingle(0x3f9d70a4), true);
        var epoch = new RngState(5, 6, 7, 8, -0f, false);
        var state = new TrainingCheckpoint(7, sampler, epoch, 48, StateDictionary.Get(net), sgd.GetState(), 7, 2.25, null);
        var options = Options with { Sampling = Sampling.ShuffledEpochs, Threads = 3, LearningRate = new StepDecaySchedule(0.1, 0.5, AtStep: 9) };
        var saved = new SavedCheckpoint(net.Config, Symbols, CheckpointFile.FixedOptions(options), new DataIdentity(100, new string('a', 64)), state);

        CheckpointFile.Save(path, saved);
        var loaded = CheckpointFile.Load(path);

        Assert.That(MlpConfigJson.Write(loaded.Config), Is.EqualTo(MlpConfigJson.Write(net.Config)));
        Assert.That(loaded.Vocabulary, Is.EqualTo(Symbols));
        Assert.That(loaded.Training, Is.EqualTo(saved.Training));
        Assert.That(loaded.Data, Is.EqualTo(saved.Data));
        var s = loaded.State;
        Assert.That((s.CompletedSteps, s.Cursor, s.OptimizerSteps, s.LastLoss, s.LastValidationLoss), Is.EqualTo((7, 48, 7, 2.25, (double?)null)));
        Assert.That(s.Sampler, Is.EqualTo(sampler));
        Assert.That(BitConverter.SingleToInt32Bits(s.EpochStart!.Value.SpareGaussian), Is.EqualTo(BitConverter.SingleToInt32Bits(-0f)));
        Assert.That(s.EpochStart, Is.EqualTo(epoch));
        Assert.That(s.Network.Select(t => (t.Name, t.Shape, t.Data.Select(BitConverter.SingleToInt32Bits).ToArray())),
            Is.EqualTo(state.Network.Select(t => (t.Name, t.Shape, t.Data.Select(BitConverter.SingleToInt32Bits).ToArray()))));
        Assert.That(s.Optimizer.Select(t => (t.Name, t.Data)), Is.EquivalentTo(state.Optimizer.Select(t => (t.Name, t.Data))));
        Assert.That(SafeTensors.Read(path).Tensors.Keys, Does.Contain("optimizer.momentum_buffer.hidden.0.linear.weight").And.Contain("hidden.0.norm.running_mean"));
        Assert.That(SafeTensors.Read(path).Metadata["format"], Is.EqualTo("bnmlp-checkpoint/1"));
    }

    [Test]
    public void AnotherArchitecture_IsRefusedNamingTheDifference()
    {
        using var temp = new TempDirectory();
        string path = WriteCheckpoint(temp);
        var ex = RefusedResume(path, Config with { HiddenWidths = [100, 100], HiddenBias = true }, Options, Symbols, ResumeTests.Data(100, 1));
        Assert.That(ex.Message, Is.EqualTo($"Cannot resume from '{path}': the checkpoint has hidden widths [200], the run asks for [100, 100]; the checkpoint has hidden bias off, the run asks for on."));
    }

    [Test]
    public void AnotherVocabulary_IsRefusedNamingTheSymbol()
    {
        using var temp = new TempDirectory();
        string path = WriteCheckpoint(temp);
        string[] other = [.. Symbols[..3], "x", .. Symbols[4..]];
        var ex = Assert.Throws<InvalidDataException>(() => new Trainer(ResumeTests.Network(Config), Options, other).Resume(path, ResumeTests.Data(100, 1)));
        Assert.That(ex!.Message, Is.EqualTo($"Cannot resume from '{path}': the checkpoint's vocabulary has 'c' at id 3, the run's has 'x'."));

        var bigger = Config with { VocabularySize = 10, OutputWidth = 10 };
        var ex2 = RefusedResume(path, bigger, Options, [.. Symbols, "i"], ResumeTests.Data(100, 1));
        Assert.That(ex2.Message, Does.Contain("the checkpoint has vocabulary size 9, the run asks for 10; the checkpoint has output width 9, the run asks for 10")
            .And.Contain("the checkpoint's vocabulary holds 9 symbols, the run's 10"));
    }

    [Test]
    public void OtherTrainingOptions_AreRefusedNamingEach()
    {
        using var temp = new TempDirectory();
        string path = WriteCheckpoint(temp);
        var other = Options with { Seed = 5, BatchSize = 32, Steps = 40, LearningRate = new ConstantSchedule(0.01), Optimizer = OptimizerKind.Adam };
        var ex = RefusedResume(path, Config, other, Symbols, ResumeTests.Data(100, 1));
        Assert.That(ex.Message, Does.Contain("the checkpoint has seed 4, the run asks for 5")
            .And.Contain("the checkpoint has steps 20, the run asks for 40")
            .And.Contain("the checkpoint has batch size 16, the run asks for 32")
            .And.Contain("the checkpoint has optimizer Sgd, the run asks for Adam")
            .And.Contain("the checkpoint has learning rate 0.1 then x0.1 at step half-way, the run asks for 0.01 (constant)"));
    }

    [Test]
    public void OtherRegularization_IsRefusedNamingEach()
    {
        using var temp = new TempDirectory();
        string path = WriteCheckpoint(temp);
        var other = Options with { Dropout = 0.25f, EmaDecay = 0.99f, Optimizer = OptimizerKind.AdamW, Momentum = 0 };
        var ex = RefusedResume(path, Config, other, Symbols, ResumeTests.Data(100, 1));
        Assert.That(ex.Message, Does.Contain("the checkpoint has dropout 0, the run asks for 0.25")
            .And.Contain("the checkpoint has EMA decay 0, the run asks for 0.99")
            .And.Contain("the checkpoint has optimizer Sgd, the run asks for AdamW"));
    }

    [Test]
    public void OtherTrainingData_IsRefused()
    {
        using var temp = new TempDirectory();
        string path = WriteCheckpoint(temp);
        var ex = Assert.Throws<InvalidDataException>(() => new Trainer(ResumeTests.Network(Config), Options, Symbols).Resume(path, ResumeTests.Data(100, 2)));
        Assert.That(ex!.Message, Does.Match(@"^Cannot resume from '.*': the checkpoint was written for a training set of 100 rows \(SHA-256 [0-9a-f]{12}\.\.\.\), the run's has 100 rows \(SHA-256 [0-9a-f]{12}\.\.\.\)\.$"));
    }

    [Test]
    public void AnotherThreadCount_IsAccepted()
    {
        using var temp = new TempDirectory();
        string path = WriteCheckpoint(temp);
        var saved = new Trainer(ResumeTests.Network(Config), Options with { Threads = 2 }, Symbols).Resume(path, ResumeTests.Data(100, 1));
        Assert.That(saved.Training.Threads, Is.EqualTo(1));
        Assert.That(saved.State.CompletedSteps, Is.EqualTo(6));
    }

    [Test]
    public void ADenseCheckpoint_HasNoVocabularyAndResumes()
    {
        using var temp = new TempDirectory();
        var config = new MlpConfig { DenseInputWidth = 5, VocabularySize = 0, EmbeddingWidth = 0, OutputWidth = 3, HiddenWidths = [8, 8], BlockStyle = BlockStyle.PreActivation, Residual = true, Activation = Activation.Relu };
        var rng = new Rng(2);
        var data = Dataset.FromDense([.. Enumerable.Range(0, 200).Select(_ => rng.NextGaussian())], 5, [.. Enumerable.Range(0, 40).Select(i => i % 3)]);
        var options = Options with { Sampling = Sampling.ShuffledEpochs };
        string path = WriteCheckpoint(temp, config, options, data);
        var loaded = CheckpointFile.Load(path);
        Assert.That(loaded.Vocabulary, Is.Null);
        Assert.That(SafeTensors.Read(path).Metadata.ContainsKey("vocabulary"), Is.False);
        Assert.That(new Trainer(ResumeTests.Network(config), options).Resume(path, data).State.CompletedSteps, Is.EqualTo(6));
    }

    [Test]
    public void AModelFile_IsNotACheckpoint()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "model.safetensors");
        var net = ResumeTests.Network();
        ModelFile.Save(path, new ModelState(net.Config, Symbols, false, net.Tensors.ToDictionary(t => t.Name, t => t.Data)));
        var ex = Assert.Throws<ModelFormatException>(() => CheckpointFile.Load(path));
        Assert.That(ex!.Message, Is.EqualTo($"'{path}' is not a valid bnmlp-checkpoint/1 file: it is a model file ('bnmlp/1'), not a checkpoint; checkpoints are written by training with a checkpoint path."));
    }

    [Test]
    public void ATruncatedCheckpoint_IsAClearError()
    {
        using var temp = new TempDirectory();
        string path = WriteCheckpoint(temp);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);
        var ex = Assert.Throws<ModelFormatException>(() => CheckpointFile.Load(path));
        Assert.That(ex!.Message, Does.StartWith($"'{path}' is not a valid safetensors file: ").And.Contain("(truncated"));
    }

    [Test]
    public void AFlippedBitInTheWeights_IsCaughtByTheHash()
    {
        using var temp = new TempDirectory();
        string path = WriteCheckpoint(temp);
        var bytes = File.ReadAllBytes(path);
        bytes[^5] ^= 0x01;   // the low bit of a float: still finite, still the right shape
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<ModelFormatException>(() => CheckpointFile.Load(path));
        Assert.That(ex!.Message, Is.EqualTo($"'{path}' is not a valid bnmlp-checkpoint/1 file: its contents do not match its 'sha256' (the file is corrupted or was edited)."));
    }

    /// <summary>300 mutations in CI; BNMLP_FUZZ_ITERATIONS sets the count for the full run (as for model files).</summary>
    [Test]
    public void SeededMutations_EitherLoadTheSameCheckpointOrFailClearly()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("BNMLP_FUZZ_ITERATIONS"), out int n) && n > 0 ? n : 300;
        using var temp = new TempDirectory();
        string path = WriteCheckpoint(temp);
        var original = File.ReadAllBytes(path);
        var reference = CheckpointFile.Load(path);
        var rng = new Rng(2026);
        int refused = 0;
        string mutated = Path.Combine(temp.Path, "mutated.ckpt");
        for (int i = 0; i < count; i++)
        {
            var bytes = (byte[])original.Clone();
            switch (rng.NextInt(3))
            {
                case 0: bytes[rng.NextInt(bytes.Length)] ^= (byte)(1 << rng.NextInt(8)); break;
                case 1: bytes = bytes[..rng.NextInt(bytes.Length)]; break;
                default: bytes[8 + rng.NextInt(Math.Min(2000, bytes.Length - 8))] = (byte)rng.NextInt(256); break;   // the header
            }
            File.WriteAllBytes(mutated, bytes);
            try
            {
                var loaded = CheckpointFile.Load(mutated);
                Assert.That(loaded.State.Network.SelectMany(t => t.Data), Is.EqualTo(reference.State.Network.SelectMany(t => t.Data)), $"mutation {i} loaded other weights");
                Assert.That(loaded.State.Sampler, Is.EqualTo(reference.State.Sampler));
            }
            catch (ModelFormatException ex)
            {
                refused++;
                Assert.That(ex.Message, Does.StartWith($"'{mutated}' is not a valid "), $"mutation {i}");
            }
        }
        TestContext.Out.WriteLine($"{count} checkpoint mutations: {refused} refused with a clear error, {count - refused} loaded identical contents");
        Assert.That(refused, Is.GreaterThan(count * 5 / 6));
    }
}
