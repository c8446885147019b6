namespace Microsoft.ML.BatchNormMlp.Tests.Api;

public class TrainerOptionsTests
{
    private static IEnumerable<TestCaseData> BadOptions()
    {
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { Preset = "bn2" }, "Preset", "BatchNormMlpTrainer.Options.Preset must be one of bn1, plain1, seed002, mlp3, deep50, deep50-res, quality, quality-c3 (or, for dense feature vectors, mnist1d-res, mnist1d-res-bn); got 'bn2'.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { DataSeed = 1, Diagnostics = new TrainingDiagnosticsOptions { HistogramBins = 0 } }, "HistogramBins", "TrainingDiagnosticsOptions.HistogramBins must be between 1 and 10000; got 0.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { EmbeddingWidth = 0 }, "EmbeddingWidth", "BatchNormMlpTrainer.Options.EmbeddingWidth must be between 1 and 65536; got 0.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { HiddenWidths = [10, -3] }, "HiddenWidths", "BatchNormMlpTrainer.Options.HiddenWidths[1] must be between 1 and 65536; got -3.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { Steps = 0 }, "Steps", "BatchNormMlpTrainer.Options.Steps must be between 1 and 100000000; got 0.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { BatchSize = 1 }, "BatchSize", "BatchNormMlpTrainer.Options.BatchSize must be between 2 and 1048576; got 1.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { LearningRate = -0.1f }, "LearningRate", "BatchNormMlpTrainer.Options.LearningRate must be in (0, 1000]; got -0.1.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { LearningRate = float.NaN }, "LearningRate", "must be in (0, 1000]; got NaN.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { DecayFactor = 2f }, "DecayFactor", "BatchNormMlpTrainer.Options.DecayFactor must be in (0, 1]; got 2.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { Steps = 100, DecayStep = 101 }, "DecayStep", "BatchNormMlpTrainer.Options.DecayStep must be between 0 and 100; got 101.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { Momentum = 1f }, "Momentum", "BatchNormMlpTrainer.Options.Momentum must be in [0, 1); got 1.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { WeightDecay = -1f }, "WeightDecay", "BatchNormMlpTrainer.Options.WeightDecay must be in [0, 1000]; got -1.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { Threads = 0 }, "Threads", "BatchNormMlpTrainer.Options.Threads must be between 1 and 256; got 0.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { ValidationInterval = -1 }, "ValidationInterval", "BatchNormMlpTrainer.Options.ValidationInterval must be between 0 and 100000000; got -1.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { ProgressInterval = 0 }, "ProgressInterval", "BatchNormMlpTrainer.Options.ProgressInterval must be between 1 and 100000000; got 0.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { OutputWeightScale = 0f }, "OutputWeightScale", "BatchNormMlpTrainer.Options.OutputWeightScale must be in (0, 100]; got 0.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { Activation = (Activation)7 }, "Activation", "BatchNormMlpTrainer.Options.Activation must be one of Tanh, Relu; got 7.");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { Optimizer = OptimizerAlgorithm.Adam, Momentum = 0.9f }, "Momentum", "Momentum applies to SGD only");
        yield return new TestCaseData(new BatchNormMlpTrainer.Options { BlockStyle = BlockStyle.PreActivation, HiddenWidths = [] }, "HiddenWidths", "must hold at least the stem layer");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Validate_NamesTheFieldAndItsAllowedRange(BatchNormMlpTrainer.Options options, string field, string message)
    {
        var ex = Assert.Catch<ArgumentException>(options.Validate);
        Assert.That(ex!.ParamName, Is.EqualTo(field));
        Assert.That(ex.Message, Does.Contain(message));

        // The catalog refuses the same options when the trainer is created, before any data is read.
        var again = Assert.Catch<ArgumentException>(() => new MLContext().MulticlassClassification.Trainers.BatchNormMlp(options));
        Assert.That(again!.Message, Does.Contain(message));
    }

    [Test]
    public void Defaults_AreValid_AndResolveToThePreset()
    {
        var options = new BatchNormMlpTrainer.Options();
        Assert.DoesNotThrow(options.Validate);
        var (config, init, training, seed) = options.Resolve(vocabularySize: 27, contextLength: 3, contextSeed: null, contextThreads: 1);
        var preset = Microsoft.ML.BatchNormMlp.Training.Presets.Get("bn1");
        Assert.That(config with { HiddenWidths = [] }, Is.EqualTo(preset.Config with { HiddenWidths = [] }));
        Assert.That(config.HiddenWidths, Is.EqualTo(preset.Config.HiddenWidths));
        Assert.That(init, Is.EqualTo(preset.Init));
        Assert.That(training.Steps, Is.EqualTo(200_000));
        Assert.That(training.LearningRate, Is.EqualTo(preset.Training.LearningRate));
        Assert.That(seed, Is.EqualTo((ulong)CharacterModelDefaults.Seed));
    }

    [Test]
    public void Resolve_KeepsThePresetsSamplingAndCalibration()
    {
        // quality trains in shuffled epochs and calibrates; Resolve once forced sampling with replacement and no calibration.
        var preset = Microsoft.ML.BatchNormMlp.Training.Presets.Get("quality");
        var (_, _, training, _) = new BatchNormMlpTrainer.Options { Preset = "quality" }.Resolve(27, 8, null, 1);
        Assert.That(training.Sampling, Is.EqualTo(preset.Training.Sampling));
        Assert.That(training.Sampling, Is.EqualTo(Microsoft.ML.BatchNormMlp.Training.Sampling.ShuffledEpochs));
        Assert.That(training.CalibrateAfterTraining, Is.True);
        var (_, _, bn1, _) = new BatchNormMlpTrainer.Options { Preset = "bn1" }.Resolve(27, 3, null, 1);
        Assert.That(bn1.CalibrateAfterTraining, Is.False);
    }

    [Test]
    public void Resolve_AppliesEveryOverride_AndTakesContextAndVocabularyFromTheData()
    {
        var options = new BatchNormMlpTrainer.Options
        {
            Preset = "plain1", EmbeddingWidth = 6, HiddenWidths = [32, 32], Activation = Activation.Relu, BlockStyle = BlockStyle.PreActivation,
            Residual = true, BatchNorm = true, OutputBatchNorm = true, HiddenBias = false, OutputBias = false,
            Initialization = WeightInitialization.HeUniform, OutputWeightScale = 0.1f, Optimizer = OptimizerAlgorithm.Adam, LearningRate = 0.003f,
            Decay = LearningRateDecay.Step, DecayFactor = 0.5f, DecayStep = 10, WeightDecay = 0.01f, BatchSize = 64, Steps = 20,
            ValidationInterval = 5, ProgressInterval = 2, Seed = 9, Threads = 2, CalibrateAfterTraining = true,
        };
        var (c, init, t, seed) = options.Resolve(vocabularySize: 31, contextLength: 5, contextSeed: 1, contextThreads: 1);
        Assert.That((c.ContextLength, c.VocabularySize, c.OutputWidth, c.EmbeddingWidth), Is.EqualTo((5, 31, 31, 6)));
        Assert.That(c.HiddenWidths, Is.EqualTo(new[] { 32, 32 }));
        Assert.That((c.Activation, c.BlockStyle, c.Residual, c.HiddenBatchNorm, c.OutputBatchNorm, c.HiddenBias, c.OutputBias),
            Is.EqualTo((Activation.Relu, BlockStyle.PreActivation, true, true, true, false, false)));
        Assert.That((init.Scheme, init.OutputWeightScale), Is.EqualTo((Microsoft.ML.BatchNormMlp.Model.InitScheme.HeUniform, 0.1f)));
        Assert.That(t.Optimizer, Is.EqualTo(Microsoft.ML.BatchNormMlp.Training.OptimizerKind.Adam));
        Assert.That(t.LearningRate, Is.EqualTo(new Microsoft.ML.BatchNormMlp.Training.StepDecaySchedule(0.003f, 0.5f, 10)));
        Assert.That((t.WeightDecay, t.BatchSize, t.Steps, t.ValidationEvery, t.ProgressEvery, t.Threads, t.CalibrateAfterTraining),
            Is.EqualTo((0.01f, 64, 20, 5, 2, 2, true)));
        Assert.That(seed, Is.EqualTo(9UL), "the options' seed wins over the context's");
    }

    [Test]
    public void Seed_FallsBackToTheContext_ThenToTheDefault()
    {
        var options = new BatchNormMlpTrainer.Options();
        Assert.That(options.Resolve(27, 3, contextSeed: 11, contextThreads: 3).Seed, Is.EqualTo(11UL));
        Assert.That(options.Resolve(27, 3, contextSeed: 11, contextThreads: 3).Training.Threads, Is.EqualTo(3));
        Assert.That(options.Resolve(27, 3, contextSeed: null, contextThreads: 1).Seed, Is.EqualTo((ulong)CharacterModelDefaults.Seed));
    }

    [Test]
    public void Fit_NeverMutatesTheCallersOptions_AndTheTrainerKeepsItsOwnCopy()
    {
        var options = TinyModels.Options(steps: 30);
        var widths = new[] { 16 };
        options.HiddenWidths = widths;
        var trainer = new MLContext(seed: 1).MulticlassClassification.Trainers.BatchNormMlp(options);

        // Changing the caller's object (and the array it holds) after creating the trainer changes nothing.
        options.Steps = 1;
        widths[0] = 999;
        string before = Snapshot(options);
        var featurizer = Featurizers.Fit(TinyModels.Corpus);
        var model = trainer.Fit(featurizer.Transform(TinyModels.Corpus));

        Assert.That(model.Training!.Steps, Is.EqualTo(30));
        Assert.That(model.Configuration.HiddenWidths, Is.EqualTo(new[] { 16 }));
        Assert.That(Snapshot(options), Is.EqualTo(before), "Fit changed the caller's options");
        Assert.That(widths[0], Is.EqualTo(999));
        Assert.That(trainer.TrainerOptions.Steps, Is.EqualTo(30));
        Assert.That(trainer.TrainerOptions, Is.Not.SameAs(trainer.TrainerOptions), "TrainerOptions hands out copies");
    }

    [Test]
    public void Clone_IsDeep()
    {
        var options = new BatchNormMlpTrainer.Options { HiddenWidths = [1, 2], Steps = 5 };
        var clone = options.Clone();
        Assert.That(clone.HiddenWidths, Is.EqualTo(new[] { 1, 2 }).And.Not.SameAs(options.HiddenWidths));
        Assert.That(clone.Steps, Is.EqualTo(5));
        clone.Steps = 6;
        Assert.That(options.Steps, Is.EqualTo(5));
    }

    [Test]
    public void FeaturizerOptions_Validate_NamesTheField()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(new ContextWindowEstimator.Options { ContextLength = 0 }.Validate);
        Assert.That(ex!.Message, Does.Contain("Options.ContextLength must be between 1 and 1024; got 0."));
        var ex2 = Assert.Throws<ArgumentException>(new ContextWindowEstimator.Options { BoundarySymbol = "ab" }.Validate);
        Assert.That(ex2!.Message, Does.Contain("Options.BoundarySymbol must be exactly one printable character; got \"ab\"."));
        var ex3 = Assert.Throws<ArgumentException>(new ContextWindowEstimator.Options { UnknownSymbol = "." }.Validate);
        Assert.That(ex3!.Message, Does.Contain("Options.UnknownSymbol must differ from the boundary symbol '.'"));
        var ex4 = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Transforms.Text.FeaturizeContextWindows(contextLength: 2000));
        Assert.That(ex4!.Message, Does.Contain("ContextLength must be between 1 and 1024; got 2000."));
    }

    private static string Snapshot(BatchNormMlpTrainer.Options o) =>
        string.Join("|", typeof(BatchNormMlpTrainer.Options).GetProperties().Select(p => $"{p.Name}={Format(p.GetValue(o))}"));

    private static string Format(object? value) => value is IEnumerable<int> list ? string.Join(",", list) : value?.ToString() ?? "null";
}
