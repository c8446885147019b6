using Microsoft.ML.BatchNormMlp.Training;
using System.CommandLine;
using System.Text.Json;
using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Tests.Featurization;
using Microsoft.ML.BatchNormMlp.Tests.Reliability;

namespace Microsoft.ML.BatchNormMlp.Tests.Commands;

/// <summary>
/// Every bnmlp command in-process, with and without --json (the last line parsed and its figures checked against the
/// plain output and against the library), and its user errors: one line, exit code 1. One short bn1 run (300 steps)
/// is shared by the fixture.
/// </summary>
[NonParallelizable]
public class CommandTests
{
    private TempDirectory _temp = null!;
    private string _model = null!;
    private JsonElement _trained;

    [OneTimeSetUp]
    public void TrainOnce()
    {
        _temp = new TempDirectory();
        _model = Path.Combine(_temp.Path, "bn1.safetensors");
        var (exit, output, error) = Cli.Run("train", "--data", TestData.NamesPath, "--steps", "300", "--out", _model, "--progress-every", "100", "--json");
        Assert.That(exit, Is.EqualTo(0), error);
        _trained = LastJson(output);
    }

    [OneTimeTearDown]
    public void Cleanup() => _temp.Dispose();

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    private static JsonElement LastJson(string output) => JsonDocument.Parse(Lines(output)[^1]).RootElement.Clone();

    private static (string Out, JsonElement Json) Ok(params string[] args)
    {
        var (exit, output, error) = Cli.Run(args);
        Assert.That(exit, Is.EqualTo(0), $"bnmlp {string.Join(' ', args)}\n{error}");
        Assert.That(error, Is.Empty);
        return (output, args.Contains("--json") ? LastJson(output) : default);
    }

    private string Write(string name, string text) => _temp.Write(name, System.Text.Encoding.UTF8.GetBytes(text));

    [Test]
    public void Train_PrintsTrainAndDevLossInEvaluationMode_SamplesTenNames_AndWritesTheModel()
    {
        Assert.That(_trained.GetProperty("command").GetString(), Is.EqualTo("train"));
        Assert.That(_trained.GetProperty("steps").GetInt32(), Is.EqualTo(300));
        Assert.That(_trained.GetProperty("parameters").GetInt32(), Is.EqualTo(12097));
        double train = _trained.GetProperty("trainLoss").GetDouble(), dev = _trained.GetProperty("devLoss").GetDouble();
        Assert.That(train, Is.InRange(2.0, Math.Log(27)), "300 steps learn something but not everything");
        Assert.That(dev, Is.InRange(2.0, Math.Log(27)));
        Assert.That(_trained.GetProperty("samples").GetArrayLength(), Is.EqualTo(10));
        Assert.That(_trained.GetProperty("model").GetString(), Is.EqualTo(Path.GetFullPath(_model)));
        Assert.That(CharacterModel.Load(_model).Evaluate(Featurize(TestData.Names.Names)).Loss, Is.GreaterThan(0));

        // The same run without --json: the same figures as text, and no JSON line.
        string again = Path.Combine(_temp.Path, "again.safetensors");
        var (output, _) = Ok("train", "--data", TestData.NamesPath, "--steps", "300", "--out", again, "--progress-every", "100");
        string[] lines = Lines(output);
        Assert.That(lines, Has.Some.EqualTo(FormattableString.Invariant($"train loss {train:F4}  dev loss {dev:F4}  (evaluation mode, whole splits: 182625 / 22655 rows)")));
        string samples = lines.Single(l => l.StartsWith("10 samples: ", StringComparison.Ordinal));
        Assert.That(samples["10 samples: ".Length..].Split(' '), Is.EqualTo(_trained.GetProperty("samples").EnumerateArray().Select(e => e.GetString())));
        Assert.That(lines[^1], Does.StartWith("done: 300 steps in ").And.EndWith($"model {again}"));
        Assert.That(output, Does.Not.Contain("{\""));
        Assert.That(File.ReadAllBytes(again), Is.EqualTo(File.ReadAllBytes(_model)), "deterministic for a seed");
    }

    private CharacterDataset Featurize(IReadOnlyList<string> names)
    {
        var model = CharacterModel.Load(_model);
        return new CharacterDataset(model.Vocabulary, Microsoft.ML.BatchNormMlp.Featurization.ContextWindowFeaturizer.Featurize(names, model.Vocabulary, 3), names.Count);
    }

    [Test]
    public void Train_ArchitectureAndOptimizerFlags_ShapeTheModel()
    {
        string path = Path.Combine(_temp.Path, "custom.safetensors");
        var (_, json) = Ok("train", "--data", TestData.NamesPath, "--steps", "40", "--out", path, "--samples", "0", "--json",
            "--context", "4", "--embedding", "6", "--hidden", "24,24,24", "--activation", "relu", "--block", "pre", "--residual", "--no-batch-norm", "--bias",
            "--init", "kaiming", "--optimizer", "adam", "--learning-rate", "0.003", "--weight-decay", "0.0001", "--batch-size", "16", "--decay", "none");
        var config = ModelFile.Load(path).Config;
        Assert.That(config.ContextLength, Is.EqualTo(4));
        Assert.That(config.EmbeddingWidth, Is.EqualTo(6));
        Assert.That(config.HiddenWidths, Is.EqualTo(new[] { 24, 24, 24 }));
        Assert.That(config.Activation, Is.EqualTo(Activation.Relu));
        Assert.That(config.BlockStyle, Is.EqualTo(BlockStyle.PreActivation));
        Assert.That(config.Residual, Is.True);
        Assert.That(config.HiddenBatchNorm, Is.False);
        Assert.That(config.HiddenBias, Is.True);
        Assert.That(json.TryGetProperty("samples", out _), Is.False, "--samples 0");
        Assert.That(json.GetProperty("trainLoss").GetDouble(), Is.LessThan(Math.Log(27) + 0.5));
    }

    [Test]
    public void Train_RegularizationFlags_ReachTheRunAndItsCheckpoint()
    {
        string path = Path.Combine(_temp.Path, "regularized.safetensors");
        string checkpoint = Path.Combine(_temp.Path, "regularized.ckpt");
        Ok("train", "--data", TestData.NamesPath, "--steps", "30", "--out", path, "--samples", "0", "--checkpoint-every", "30", "--checkpoint", checkpoint,
            "--optimizer", "adamw", "--weight-decay", "0.01", "--dropout", "0.2", "--ema", "0.99", "--decay-step", "20", "--learning-rate", "0.003");
        var t = CheckpointFile.Load(checkpoint).Training;
        Assert.That((t.Optimizer, t.WeightDecay, t.Dropout, t.EmaDecay), Is.EqualTo((OptimizerKind.AdamW, 0.01f, 0.2f, 0.99f)));
        Assert.That(CheckpointFile.Describe(t.LearningRate), Does.EndWith("then x0.1 at step 20"));
        Assert.That(ModelFile.Load(path).Config.HiddenWidths, Is.EqualTo(Presets.Get("bn1").Config.HiddenWidths), "dropout and the EMA leave the architecture alone");
        Cli.AssertUserError(["train", "--data", TestData.NamesPath, "--out", path, "--steps", "10", "--decay-step", "20"], "DecayStep must be between 0 and 10; got 20");
    }

    [Test]
    public void Train_PresetKeepsItsOwnContextUnlessTheFlagIsGiven()
    {
        // quality reads 8 symbols; a --context default of 3 once silently overrode it.
        string path = Path.Combine(_temp.Path, "quality.safetensors");
        // One member (the preset trains three): the context is what is checked, not the ensemble.
        var (_, json) = Ok("train", "--data", TestData.NamesPath, "--preset", "quality", "--ensemble", "1", "--steps", "3", "--out", path, "--samples", "0", "--json");
        Assert.That(ModelFile.Load(path).Config.ContextLength, Is.EqualTo(Presets.QualityContext));
        Assert.That(json.GetProperty("parameters").GetInt32(), Is.EqualTo(739115));
        Ok("train", "--data", TestData.NamesPath, "--preset", "quality", "--ensemble", "1", "--context", "5", "--steps", "3", "--out", path, "--samples", "0");
        Assert.That(ModelFile.Load(path).Config.ContextLength, Is.EqualTo(5));
    }

    [Test]
    public void Merge_OfAModelWithItself_ScoresLikeTheModel_AndTrainEnsemble_WritesTheMergedModel()
    {
        string merged = Path.Combine(_temp.Path, "self-merged.safetensors");
        var (_, json) = Ok("merge", "--model", _model, "--model", _model, "--out", merged, "--json");
        // Two bn1 members side by side: embedding 27x20, hidden 60->400 (its zero blocks count: 4x a member's), BN 2x400, output 400->27.
        Assert.That(json.GetProperty("parameters").GetInt32(), Is.EqualTo(540 + 24000 + 800 + 10827));
        var rows = Featurize(TestData.Names.Names);
        var one = CharacterModel.Load(_model);
        var two = CharacterModel.Load(merged);
        Assert.That(two.Configuration.HiddenWidths, Is.EqualTo(new[] { 400 }));
        Assert.That(two.Evaluate(rows).Loss, Is.EqualTo(one.Evaluate(rows).Loss).Within(1e-5), "the mean of two equal models is the model");

        string ensemble = Path.Combine(_temp.Path, "ensemble.safetensors");
        (_, json) = Ok("train", "--data", TestData.NamesPath, "--steps", "30", "--ensemble", "2", "--out", ensemble, "--samples", "0", "--json");
        Assert.That(json.GetProperty("ensembleMembers").GetInt32(), Is.EqualTo(2));
        Assert.That(CharacterModel.Load(ensemble).Configuration.HiddenWidths, Is.EqualTo(new[] { 400 }));
        Assert.That(json.GetProperty("devLoss").GetDouble(), Is.InRange(2.0, 3.4));
        Assert.That(CharacterModel.Load(ensemble).Configuration.ActivationGroups, Is.Null, "members of one activation");

        // Members of different activations: the model file keeps each member's, and `merge` of such a model with itself keeps both groups twice.
        string mixed = Path.Combine(_temp.Path, "mixed.safetensors");
        Ok("train", "--data", TestData.NamesPath, "--steps", "30", "--ensemble", "2", "--ensemble-activations", "relu,tanh", "--out", mixed, "--samples", "0");
        Assert.That(CharacterModel.Load(mixed).Configuration.ActivationGroups, Is.EqualTo(new[] { Activation.Relu, Activation.Tanh }));
        Ok("merge", "--model", mixed, mixed, "--out", merged);
        Assert.That(CharacterModel.Load(merged).Configuration.ActivationGroups, Is.EqualTo(new[] { Activation.Relu, Activation.Tanh, Activation.Relu, Activation.Tanh }));
        Assert.That(CharacterModel.Load(merged).Evaluate(rows).Loss, Is.EqualTo(CharacterModel.Load(mixed).Evaluate(rows).Loss).Within(1e-5));
        Cli.AssertUserError(["train", "--data", TestData.NamesPath, "--steps", "30", "--ensemble-activations", "tanh,gelu", "--out", mixed], "--ensemble-activations must be up to 64 comma-separated names");

        Cli.AssertUserError(["merge", "--model", _model, "--out", merged], "needs at least two model files; got 1");
        Cli.AssertUserError(["merge", "--model", _model, ensemble, "--out", merged], "Model 1 has another architecture than model 0");
        Cli.AssertUserError(["train", "--data", TestData.NamesPath, "--steps", "30", "--ensemble", "2", "--checkpoint-every", "10", "--out", ensemble], "takes no checkpoints");
        Cli.AssertUserError(["train", "--data", TestData.NamesPath, "--preset", "seed002", "--steps", "30", "--ensemble", "2", "--out", ensemble], "output BatchNorm");
    }

    [Test]
    public void MistakesCaughtInReview_AreOneLineUserErrors()
    {
        // fold on a model without BatchNorm (was an internal error with a stack trace)
        string plain = Path.Combine(_temp.Path, "plain.safetensors");
        Ok("train", "--data", TestData.NamesPath, "--preset", "plain1", "--steps", "5", "--out", plain, "--samples", "0");
        Cli.AssertUserError(["fold", "--model", plain, "--out", Path.Combine(_temp.Path, "plain-folded.safetensors")], "has no BatchNorm layers");
        // --out naming a directory (was found only after the whole training)
        Cli.AssertUserError(["train", "--data", TestData.NamesPath, "--steps", "5", "--out", _temp.Path], "is a directory");
        // MNIST-1D --data naming one file (trained and tested on that same file)
        string test = TestData.Require(Microsoft.ML.BatchNormMlp.Featurization.DataPaths.Mnist1dTest);
        Cli.AssertUserError(["train", "--preset", "mnist1d-res", "--data", test, "--steps", "5", "--out", Path.Combine(_temp.Path, "m.safetensors")], "is a file; MNIST-1D data is a directory");
    }

    [Test]
    public void Train_ContradictoryOrMisplacedFlags_AreOneLineUserErrors()
    {
        string o = Path.Combine(_temp.Path, "never.safetensors");
        Cli.AssertUserError(["train", "--data", TestData.NamesPath, "--out", o, "--batch-norm", "--no-batch-norm"], "--batch-norm and --no-batch-norm contradict");
        Cli.AssertUserError(["train", "--data", TestData.NamesPath, "--out", o, "--optimizer", "adam", "--momentum", "0.9"],
            "BatchNormMlpTrainer.Options.Momentum applies to SGD only");
        Cli.AssertUserError(["train", "--out", o, "--preset", "mnist1d-res-bn", "--hidden", "10"], "apply to the character presets; 'mnist1d-res-bn' is an MNIST-1D preset");
        Cli.AssertUserError(["train", "--out", o, "--hidden", "10,0"], "--hidden must be up to 1000 comma-separated integers, each from 1 to 65536; got \"10,0\"");
        Assert.That(File.Exists(o), Is.False);
    }

    [Test]
    public void Eval_RecomputesTheTrainingSplit_AndReportsLossPerplexityAccuracy()
    {
        var (_, json) = Ok("eval", "--model", _model, "--data", TestData.NamesPath, "--json");
        Assert.That(json.GetProperty("loss").GetDouble(), Is.EqualTo(_trained.GetProperty("devLoss").GetDouble()).Within(1e-12), "dev is the split train reported");
        Assert.That(json.GetProperty("perplexity").GetDouble(), Is.EqualTo(Math.Exp(json.GetProperty("loss").GetDouble())).Within(1e-9));
        Assert.That(json.GetProperty("top1Accuracy").GetDouble(), Is.InRange(0.15, 0.5));
        Assert.That(json.GetProperty("rows").GetInt32(), Is.EqualTo(22655));

        var (all, allJson) = Ok("eval", "--model", _model, "--data", TestData.NamesPath, "--split", "all", "--json");
        var splits = allJson.GetProperty("splits");
        Assert.That(splits.GetProperty("train").GetProperty("loss").GetDouble(), Is.EqualTo(_trained.GetProperty("trainLoss").GetDouble()).Within(1e-12));
        Assert.That(splits.GetProperty("test").GetProperty("rows").GetInt32(), Is.EqualTo(22866));

        var (plain, _) = Ok("eval", "--model", _model, "--data", TestData.NamesPath, "--split", "test");
        string[] lines = Lines(plain);
        Assert.That(lines[^2], Does.StartWith("split "));
        Assert.That(lines[^1], Does.StartWith("test ").And.EndWith(" 22866"));
        Assert.That(lines[^1], Does.Contain(splits.GetProperty("test").GetProperty("loss").GetDouble().ToString("F4", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(Lines(all).Count(l => l.StartsWith("train ", StringComparison.Ordinal) || l.StartsWith("dev ", StringComparison.Ordinal)), Is.EqualTo(2));
    }

    [Test]
    public void Sample_IsDeterministicPerSeed_AndHonoursItsLimits()
    {
        var (plain, _) = Ok("sample", "--model", _model, "--count", "5", "--seed", "3");
        var (withJson, json) = Ok("sample", "--model", _model, "--count", "5", "--seed", "3", "--json");
        string[] names = Lines(plain);
        Assert.That(names, Has.Length.EqualTo(5));
        Assert.That(json.GetProperty("names").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(names));
        Assert.That(Lines(withJson)[..5], Is.EqualTo(names));
        Assert.That(names, Is.EqualTo(CharacterModel.Load(_model).Sample(5, 3)));

        var (_, limited) = Ok("sample", "--model", _model, "--count", "50", "--temperature", "0.5", "--top-k", "3", "--max-length", "4", "--json");
        Assert.That(limited.GetProperty("names").EnumerateArray().Select(e => e.GetString()!.Length), Has.All.InRange(0, 4));
        Assert.That(limited.GetProperty("temperature").GetDouble(), Is.EqualTo(0.5));
        Cli.AssertUserError(["sample", "--model", _model, "--top-k", "28"], "--top-k is 28 but the model knows 27 symbols");
    }

    [Test]
    public void Fold_WritesAFoldedModel_AndWithData_ComparesLogitsAndLosses()
    {
        string folded = Path.Combine(_temp.Path, "folded.safetensors");
        var (plain, _) = Ok("fold", "--model", _model, "--out", folded);
        Assert.That(Lines(plain), Has.Length.EqualTo(1));
        Assert.That(CharacterModel.Load(folded).IsFolded, Is.True);

        var (output, json) = Ok("fold", "--model", _model, "--out", folded, "--data", TestData.NamesPath, "--json");
        Assert.That(json.GetProperty("contexts").GetInt32(), Is.EqualTo(228146));
        Assert.That(json.GetProperty("maxLogitDifference").GetDouble(), Is.InRange(0, 1e-4));
        var dev = json.GetProperty("losses").GetProperty("dev");
        Assert.That(dev.GetProperty("unfolded").GetDouble(), Is.EqualTo(_trained.GetProperty("devLoss").GetDouble()).Within(1e-12));
        Assert.That(dev.GetProperty("folded").GetDouble(), Is.EqualTo(dev.GetProperty("unfolded").GetDouble()).Within(1e-5));
        Assert.That(output, Does.Contain("largest |logit difference| over all 228146 contexts"));

        Cli.AssertUserError(["fold", "--model", folded, "--out", Path.Combine(_temp.Path, "twice.safetensors")], "is already folded");
    }

    [Test]
    public void Export_WritesOnnx()
    {
        string onnx = Path.Combine(_temp.Path, "out", "model.onnx");
        var (_, json) = Ok("export", "--model", _model, "--format", "onnx", "--out", onnx, "--json");
        Assert.That(json.GetProperty("bytes").GetInt64(), Is.EqualTo(new FileInfo(onnx).Length).And.GreaterThan(12097 * 4));
        Assert.That(json.GetProperty("out").GetString(), Is.EqualTo(onnx));
        var (plain, _) = Ok("export", "--model", _model, "--out", onnx);
        Assert.That(plain, Does.StartWith($"exported: {_model} -> {onnx} (ONNX, "));
        Cli.AssertUserError(["export", "--model", _model, "--format", "tflite", "--out", onnx], "--format must be one of onnx");
    }

    [Test]
    public void Bench_ReportsMicrosecondsStepsPerSecondAndBytes()
    {
        var (_, json) = Ok("bench", "--preset", "bn1", "--steps", "50", "--repeats", "2", "--warmup", "50", "--warmup-seconds", "0", "--json");
        double us = json.GetProperty("microsecondsPerStep").GetDouble();
        Assert.That(us, Is.GreaterThan(0));
        Assert.That(json.GetProperty("stepsPerSecond").GetDouble(), Is.EqualTo(1e6 / us).Within(1e-6 * 1e6 / us));
        Assert.That(json.GetProperty("bytesPerStep").GetDouble(), Is.GreaterThanOrEqualTo(0));
        Assert.That(json.GetProperty("batchSize").GetInt32(), Is.EqualTo(32));
        Assert.That(json.GetProperty("gigaflopsPerSecond").GetDouble(), Is.GreaterThan(0));
        var (plain, _) = Ok("bench", "--preset", "mnist1d-res-bn", "--steps", "5", "--repeats", "1", "--warmup", "5", "--warmup-seconds", "0", "--threads", "2");
        Assert.That(plain, Does.Contain("us per step").And.Contain("bytes allocated per step"));
    }

    [TestCase("eval")]
    [TestCase("sample")]
    [TestCase("fold")]
    [TestCase("export")]
    public void ModelCommands_RefuseBadModelFiles_InOneLine(string command)
    {
        string[] Args(string model) => command switch
        {
            "eval" => ["eval", "--model", model, "--data", TestData.NamesPath],
            "fold" or "export" => [command, "--model", model, "--out", Path.Combine(_temp.Path, "x-" + command)],
            _ => [command, "--model", model],
        };
        string missing = Path.Combine(_temp.Path, "absent.safetensors");
        Cli.AssertUserError(Args(missing), $"Model file '{missing}' not found");
        Cli.AssertUserError(Args(_temp.Path), "is a directory");
        string corrupt = _temp.Write("corrupt.safetensors", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        Cli.AssertUserError(Args(corrupt), corrupt);
        string truncated = _temp.Write("truncated.safetensors", File.ReadAllBytes(_model)[..1000]);
        Cli.AssertUserError(Args(truncated), truncated);
        string dense = Path.Combine(TestData.RepositoryRoot, "tests", "Microsoft.ML.BatchNormMlp.Tests", "Fixtures", "Export", "dense-bn-residual.safetensors");
        Cli.AssertUserError(Args(dense), "holds a dense-input model");
        Cli.AssertUserError([command], "--model");
        Assert.That(File.Exists(Path.Combine(_temp.Path, "x-" + command)), Is.False, "nothing written");
    }

    [Test]
    public void DataThatTheModelCannotRead_IsAOneLineUserError()
    {
        string foreign = Write("foreign.txt", string.Join('\n', Enumerable.Repeat("zoë", 20)));
        Cli.AssertUserError(["eval", "--model", _model, "--data", foreign], foreign, "does not fit the model");
        Cli.AssertUserError(["fold", "--model", _model, "--out", Path.Combine(_temp.Path, "f.safetensors"), "--data", foreign], "does not fit the model");
        Cli.AssertUserError(["eval", "--model", _model, "--data", Path.Combine(_temp.Path, "nope.txt")], "nope.txt");
        string badUtf8 = _temp.Write("bad.txt", [(byte)'a', (byte)'\n', 0xC3, 0x28, (byte)'\n']);
        Cli.AssertUserError(["eval", "--model", _model, "--data", badUtf8], badUtf8);
        string tiny = Write("tiny.txt", "ab\n");
        Cli.AssertUserError(["eval", "--model", _model, "--data", tiny, "--split", "dev"], "The dev split of");
    }

    [Test]
    public void Help_ListsEveryOption_OfEveryCommand()
    {
        foreach (System.CommandLine.Command command in global::BatchNormMlp.Cli.BnmlpCli.CreateRootCommand().Subcommands)
        {
            var (exit, output, error) = Cli.Run(command.Name, "--help");
            Assert.That(exit, Is.EqualTo(0), error);
            Assert.That(output, Does.Contain(command.Description!));
            foreach (Option option in command.Options.Where(o => o.Name.StartsWith("--", StringComparison.Ordinal)))
                Assert.That(output, Does.Contain(option.Name), $"{command.Name} --help");
        }
    }
}
