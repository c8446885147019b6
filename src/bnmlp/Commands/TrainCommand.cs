using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.BatchNormMlp;
using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Featurization;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;
using Spectre.Console;

namespace BatchNormMlp.Cli.Commands;

/// <summary>
/// <c>bnmlp train</c>: trains a preset on names.txt (character presets: the seeds' split, training on its train part,
/// reporting the dev loss) or on MNIST-1D (the mnist1d presets), writes the model file, and with
/// <c>--checkpoint-every</c> writes checkpoints from which <c>--resume</c> continues bit-identically. The library does
/// the work; this maps options onto it.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        Option<string?> data = CommonOptions.Path("--data",
            "The names file (character presets) or the MNIST-1D directory (mnist1d presets). Default: searched in data/, then ../shared/data/.");
        Option<string> preset = CommonOptions.Choice("--preset", "bn1", [.. Presets.Names, "deep50res"], "The experiment to train");
        Option<int> steps = CommonOptions.Int("--steps", 0, 0, 100_000_000, "Optimizer steps; 0 keeps the preset's");
        Option<long> seed = CommonOptions.Seed(2147483647, "Seed of the initialization and of the minibatch sampler.");
        Option<int> threads = CommonOptions.Int("--threads", 1, 1, 256, "Threads for the matrix products (results are reproducible for a given count)");
        Option<double?> learningRate = CommonOptions.PositiveNumber("--learning-rate", 1e30, "The initial learning rate, replacing the preset's (its decay, if any, is kept)");
        Option<string?> output = CommonOptions.Path("--out", "Where to write the trained model (safetensors, bnmlp/1). Default: model.safetensors.");
        Option<int> checkpointEvery = CommonOptions.Int("--checkpoint-every", 0, 0, int.MaxValue, "Write a checkpoint every N steps (and after the last); 0: none");
        Option<string?> checkpoint = CommonOptions.Path("--checkpoint",
            "The checkpoint file, replaced atomically each time. Default: the --resume file, else the model path with .checkpoint.safetensors.");
        Option<string?> resume = CommonOptions.Path("--resume",
            "Continue the run saved in this checkpoint; architecture, vocabulary, seed, steps, optimizer, schedule and data must match.");
        Option<int> progressEvery = CommonOptions.Int("--progress-every", 0, 0, int.MaxValue,
            "Report progress every N steps (a line when output is redirected, else the bar); 0: ten reports per run");
        Option<int> samples = CommonOptions.Int("--samples", 10, 0, 1000, "Names to sample from the trained model (character presets)");
        Option<string> engine = CommonOptions.Engine("What computes the steps: auto (managed on the CPU, torchsharp on CUDA), managed (SIMD, CPU) or torchsharp (libtorch)");
        Option<string> device = CommonOptions.Device("Where the steps run; cuda needs the torchsharp engine and a CUDA build of libtorch");
        Option<int> ensemble = CommonOptions.Int("--ensemble", 0, 0, TrainingOptions.MaxEnsembleMembers,
            "Members of an ensemble, trained from --seed, --seed+1, ... (at once, one per core) and merged into one model averaging their logits; 0: the preset's (quality: 2, quality-c3: 3, others 1)");

        // Architecture and optimizer: each replaces the preset's setting only when given (character presets).
        Option<int> context = CommonOptions.Int("--context", 0, 0, 64, "Previous symbols the model reads; 0: the preset's (3; quality: 8)");
        Option<int> embedding = CommonOptions.Int("--embedding", 0, 0, CharacterModelDefaults.MaxWidth, "Embedding width per symbol; 0 keeps the preset's");
        Option<int[]?> hidden = CommonOptions.IntList("--hidden", 1, CharacterModelDefaults.MaxWidth, CharacterModelDefaults.MaxHiddenLayers,
            "Hidden layer widths, first to last, e.g. 200,200");
        Option<string> activation = CommonOptions.Choice("--activation", "tanh", ["tanh", "relu"], "Hidden nonlinearity (of every ensemble member: it replaces the preset's member activations)");
        Option<string[]?> memberActivations = CommonOptions.ChoiceList("--ensemble-activations", ["tanh", "relu"], TrainingOptions.MaxEnsembleMembers,
            "The ensemble members' nonlinearities in turn (member m: entry m mod count), e.g. tanh,relu; default: the preset's (quality: tanh,relu)");
        Option<string> block = CommonOptions.Choice("--block", "post", ["post", "pre"], "Block style: post-activation act(bn(linear(h))) or pre-activation linear(act(bn(h)))");
        Option<bool> residual = CommonOptions.Flag("--residual", "Add each hidden layer's input back where the widths match (residual streams).");
        Option<bool> batchNorm = CommonOptions.Flag("--batch-norm", "BatchNorm in the hidden layers.");
        Option<bool> noBatchNorm = CommonOptions.Flag("--no-batch-norm", "No BatchNorm in the hidden layers.");
        Option<bool> bias = CommonOptions.Flag("--bias", "Biases on the hidden Linear layers (redundant before a BatchNorm).");
        Option<string> init = CommonOptions.Choice("--init", "pytorch", [.. Inits.Keys], "Weight initialization");
        Option<string> optimizer = CommonOptions.Choice("--optimizer", "sgd", ["sgd", "adam", "adamw"], "Optimizer (adamw: Adam with decoupled weight decay)");
        Option<double?> momentum = CommonOptions.Number("--momentum", 0, 0.999999, "SGD momentum");
        Option<double?> weightDecay = CommonOptions.Number("--weight-decay", 0, 1000, "Weight decay: L2 in the gradient (sgd, adam) or decoupled (adamw)");
        Option<double?> dropout = CommonOptions.Number("--dropout", 0, 0.95, "Dropout rate on every hidden block while training (the model file does not change)");
        Option<double?> ema = CommonOptions.Number("--ema", 0, 0.999999, "Decay of an exponential moving average of the weights, which becomes the model (BatchNorm recalibrated); 0: none");
        Option<int> batchSize = CommonOptions.Int("--batch-size", 0, 0, CharacterModelDefaults.MaxBatchSize, "Rows per minibatch; 0 keeps the preset's");
        Option<string> decay = CommonOptions.Choice("--decay", "step", ["step", "none"], "Learning-rate schedule: step (x0.1 half-way) or none (constant)");
        Option<int> decayStep = CommonOptions.Int("--decay-step", 0, 0, 100_000_000, "With the step schedule: the first step at the lower rate; 0 keeps the preset's (half-way, or quality's own)");

        var command = new Command("train", "Train a model on names.txt (or MNIST-1D); print the train and dev loss, sample names and write the model file.")
        {
            data, preset, steps, seed, threads, learningRate, output, checkpointEvery, checkpoint, resume, progressEvery, samples, engine, device, ensemble,
            context, embedding, hidden, activation, memberActivations, block, residual, batchNorm, noBatchNorm, bias, init, optimizer, momentum, weightDecay, dropout, ema, batchSize, decay, decayStep,
        };
        CommandAction.Set(command, (parse, console, figures) =>
        {
            if (parse.GetValue(batchNorm) && parse.GetValue(noBatchNorm)) throw new UserErrorException("--batch-norm and --no-batch-norm contradict each other; give one.");
            var overrides = new BatchNormMlpTrainer.Options
            {
                Preset = parse.GetRequiredValue(preset),
                EmbeddingWidth = parse.GetValue(embedding) is > 0 and int e ? e : null,
                // An absent list option reads as an empty array, not null: without this, any other override dropped every hidden layer.
                HiddenWidths = parse.GetValue(hidden) is { Length: > 0 } widths ? widths : null,
                Activation = CommonOptions.Given(parse, activation) ? ActivationOf(parse.GetRequiredValue(activation)) : null,
                EnsembleActivations = parse.GetValue(memberActivations) is { Length: > 0 } names ? names.Select(ActivationOf).ToArray() : null,
                BlockStyle = CommonOptions.Given(parse, block) ? (parse.GetValue(block) == "pre" ? BlockStyle.PreActivation : BlockStyle.PostActivation) : null,
                Residual = parse.GetValue(residual) ? true : null,
                BatchNorm = parse.GetValue(batchNorm) ? true : parse.GetValue(noBatchNorm) ? false : null,
                HiddenBias = parse.GetValue(bias) ? true : null,
                Initialization = CommonOptions.Given(parse, init) ? Inits[parse.GetRequiredValue(init)] : null,
                Optimizer = CommonOptions.Given(parse, optimizer) ? parse.GetValue(optimizer) switch { "adam" => OptimizerAlgorithm.Adam, "adamw" => OptimizerAlgorithm.AdamW, _ => OptimizerAlgorithm.Sgd } : null,
                Momentum = parse.GetValue(momentum) is double m ? (float)m : null,
                WeightDecay = parse.GetValue(weightDecay) is double w ? (float)w : null,
                Dropout = parse.GetValue(dropout) is double p ? (float)p : null,
                EmaDecay = parse.GetValue(ema) is double d ? (float)d : null,
                BatchSize = parse.GetValue(batchSize) is > 0 and int b ? b : null,
                Decay = CommonOptions.Given(parse, decay) ? (parse.GetValue(decay) == "none" ? LearningRateDecay.Constant : LearningRateDecay.Step) : null,
                DecayStep = parse.GetValue(decayStep) is > 0 and int at ? at : null,
            };
            bool anyOverride = command.Options.Any(o => o.Name is not ("--data" or "--preset" or "--steps" or "--seed" or "--threads" or "--learning-rate" or "--out"
                or "--checkpoint-every" or "--checkpoint" or "--resume" or "--progress-every" or "--samples" or "--engine" or "--device" or "--ensemble" or "--json") && CommonOptions.Given(parse, o));
            Run(new Request(
                parse.GetValue(data), parse.GetRequiredValue(preset), parse.GetValue(steps), parse.GetValue(seed), parse.GetValue(threads),
                parse.GetValue(learningRate), parse.GetValue(output) ?? "model.safetensors", parse.GetValue(checkpointEvery), parse.GetValue(checkpoint),
                parse.GetValue(resume), parse.GetValue(progressEvery), parse.GetValue(samples), parse.GetValue(context), anyOverride ? overrides : null,
                CommonOptions.EngineValue(parse.GetRequiredValue(engine)), parse.GetRequiredValue(device), parse.GetValue(ensemble)), console, figures);
        });
        return command;
    }

    private static Activation ActivationOf(string name) => name == "relu" ? Activation.Relu : Activation.Tanh;

    private static readonly Dictionary<string, WeightInitialization> Inits = new(StringComparer.Ordinal)
    {
        ["pytorch"] = WeightInitialization.PyTorchDefault,
        ["kaiming"] = WeightInitialization.KaimingNormal,
        ["he-uniform"] = WeightInitialization.HeUniform,
        ["naive"] = WeightInitialization.NaiveNormal,
    };

    private sealed record Request(string? Data, string Preset, int Steps, long Seed, int Threads, double? LearningRate, string Out,
        int CheckpointEvery, string? Checkpoint, string? Resume, int ProgressEvery, int Samples, int Context, BatchNormMlpTrainer.Options? Overrides,
        TrainingEngine Engine = TrainingEngine.Auto, string Device = "cpu", int Ensemble = 0);

    private static void Run(Request r, CommandOutput output, JsonObject figures)
    {
        if (Directory.Exists(r.Out))
            throw new UserErrorException($"--out '{r.Out}' is a directory; give the model file's path.");
        MlpConfig presetConfig = Presets.Get(r.Preset).Config;
        bool dense = presetConfig.IsDense;
        if (dense && (r.Overrides is not null || r.Context != 0))
            throw new UserErrorException($"The architecture and optimizer flags apply to the character presets; '{r.Preset}' is an MNIST-1D preset.");
        if (r.Context == 0) r = r with { Context = presetConfig.ContextLength };
        var (train, dev, vocabulary, source, trainSet, devSet) = LoadData(r.Preset, r.Data, r.Context);
        Preset preset = Presets.Get(r.Preset, vocabulary?.Count ?? 27);
        if (r.Overrides is not null)
        {
            // The library's options map and validate the overrides (naming the field and its range); the engine runs them.
            if (r.Steps > 0) r.Overrides.Steps = r.Steps;
            try
            {
                var (config, initOptions, training, _) = r.Overrides.Resolve(vocabulary!.Count, r.Context, null, r.Threads);
                preset = preset with { Config = config, Init = initOptions, Training = training };
            }
            catch (ArgumentException e)
            {
                throw new UserErrorException($"Bad architecture or optimizer settings: {e.Message.Split(" (Parameter")[0]}");
            }
        }
        else if (!dense && r.Context != preset.Config.ContextLength)
        {
            preset = preset with { Config = preset.Config with { ContextLength = r.Context } };
        }
        string? checkpointPath = r.Checkpoint ?? r.Resume ?? (r.CheckpointEvery > 0 ? DefaultCheckpointPath(r.Out) : null);
        TrainingOptions options = preset.Training with
        {
            Steps = r.Steps > 0 ? r.Steps : preset.Training.Steps,
            Seed = unchecked((ulong)r.Seed),
            Threads = r.Threads,
            LearningRate = r.LearningRate is double lr ? WithInitialRate(preset.Training.LearningRate, lr) : preset.Training.LearningRate,
            ProgressEvery = r.ProgressEvery > 0 ? r.ProgressEvery : Math.Max(1, (r.Steps > 0 ? r.Steps : preset.Training.Steps) / (output.Pretty ? 1000 : 10)),
            CheckpointPath = checkpointPath,
            CheckpointEvery = r.CheckpointEvery,
            Engine = r.Engine,
            Device = r.Device,
            EnsembleMembers = r.Ensemble > 0 ? r.Ensemble : preset.Members,
        };
        if (options.EnsembleMembers > 1)
        {
            // Before any output: a user error is one line.
            if (r.Resume is not null || r.CheckpointEvery > 0 || r.Checkpoint is not null)
                throw new UserErrorException($"An ensemble of {options.EnsembleMembers} takes no checkpoints (each member is a run of its own seed); drop --resume / --checkpoint-every / --checkpoint, or pass --ensemble 1.");
            try { EnsembleTraining.MergedConfig(preset.Config, options); }
            catch (ArgumentException e) { throw new UserErrorException($"Cannot train an ensemble of {options.EnsembleMembers}: {e.Message.Split(" (Parameter")[0]}"); }
        }
        TrainingEngine resolved;
        try { resolved = TrainingEngines.Resolve(options); }
        catch (ArgumentException e) { throw new UserErrorException($"--engine {r.Engine.ToString().ToLowerInvariant()} --device {r.Device}: {e.Message.Split(" (Parameter")[0]}"); }

        MlpNetwork network;
        TrainingResult result;
        if (options.EnsembleMembers > 1)
        {
            output.Line($"data: {source} ({train.Count} training rows)");
            (network, result) = TrainEnsemble(preset, options, train, dev, output);
        }
        else (network, result) = TrainOne(r, preset, options, resolved, checkpointPath, train, dev, vocabulary, source, output);

        ModelFile.Save(r.Out, new ModelState(network.Config, vocabulary?.Symbols, false,
            network.Tensors.ToDictionary(t => t.Name, t => t.Data, StringComparer.Ordinal)));

        figures["preset"] = preset.Name;
        figures["steps"] = result.Steps;
        if (options.EnsembleMembers > 1) figures["ensembleMembers"] = options.EnsembleMembers;
        ReportAndSample(r, network, result, vocabulary, trainSet, devSet, source, resolved, checkpointPath, output, figures);
    }

    // Members at once, one core each; each member's progress line says which member it is.
    private static (MlpNetwork, TrainingResult) TrainEnsemble(Preset preset, TrainingOptions options, Dataset train, Dataset? dev, CommandOutput output)
    {
        int k = options.EnsembleMembers;
        int parameters = TensorLayout.Expected(preset.Config).Where(s => s.Role == TensorRole.Parameter).Sum(s => s.ElementCount);
        string activations = string.Join(", ", Enumerable.Range(0, k).Select(m => EnsembleTraining.MemberConfig(preset.Config, options, m).Activation.ToString().ToLowerInvariant()));
        output.Line($"preset: {preset.Name}, an ensemble of {k} members of {parameters} parameters (seeds {options.Seed}..{options.Seed + (ulong)k - 1}; {activations}), "
            + $"{options.Steps} steps each, learning rate {CheckpointFile.Describe(options.LearningRate)}");
        using var interrupt = new Interruption();
        try
        {
            var result = EnsembleTraining.Train(preset.Config, preset.Init, options, options.Seed, train, dev,
                m => new LineProgress(output, $"member {m + 1}/{k}  "), cancellation: interrupt.Token);
            if (result.ValidationLoss is double v)
                output.Line(string.Create(CultureInfo.InvariantCulture, $"members' dev loss {string.Join(" ", result.Members.Select(x => x.ValidationLoss?.ToString("F4", CultureInfo.InvariantCulture) ?? "-"))}; merged {v:F4}"));
            return (result.Network, result.Summary);
        }
        catch (OperationCanceledException) when (interrupt.IsRequested)
        {
            throw new UserErrorException("Interrupted; an ensemble run keeps no checkpoints, so nothing was saved.");
        }
        catch (NonFiniteLossException e)
        {
            throw new UserErrorException(e.Diagnosis + " Lower the learning rate.");
        }
        catch (EngineUnavailableException e)
        {
            // The architecture and checkpoint checks ran before the training (an ArgumentException from here on is a bug, reported as one).
            throw new UserErrorException(e.Message);
        }
    }

    private static (MlpNetwork, TrainingResult) TrainOne(Request r, Preset preset, TrainingOptions options, TrainingEngine resolved, string? checkpointPath,
        Dataset train, Dataset? dev, Vocabulary? vocabulary, string source, CommandOutput output)
    {
        var network = new MlpNetwork(preset.Config);
        Initialization.Initialize(network, preset.Init, new Rng(options.Seed));
        Trainer trainer;
        try { trainer = new Trainer(network, options, vocabulary?.Symbols); }
        catch (EngineUnavailableException e) { throw new UserErrorException(e.Message); }
        using var disposeTrainer = trainer;
        output.Line($"data: {source} ({train.Count} training rows)");
        if (r.Resume is not null)
        {
            SavedCheckpoint saved = trainer.Resume(r.Resume, train);
            output.Line($"resumed: {r.Resume} at step {saved.State.CompletedSteps}/{options.Steps}"
                + (saved.Training.Threads != options.Threads ? $" (written with {saved.Training.Threads} threads, now {options.Threads}: not bit-identical to one run)" : ""));
        }
        output.Line($"preset: {preset.Name}{(r.Overrides is null ? "" : " with overrides")}, {network.ParameterCount} parameters, {options.Steps} steps, learning rate {CheckpointFile.Describe(options.LearningRate)}"
            + (resolved == TrainingEngine.Managed ? "" : $", engine {resolved} on {TrainingDevice.Parse(options.Device)}"));

        // Fail now, not after the training, if the model cannot be written there.
        if (checkpointPath is not null && Directory.Exists(checkpointPath))
            throw new UserErrorException($"The checkpoint path '{checkpointPath}' is a directory; give a file's path.");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(r.Out))!);

        // Ctrl+C or SIGTERM stops between two steps; with a checkpoint path the trainer saves that step first.
        using var interrupt = new Interruption();
        TrainingResult result;
        try
        {
            result = output.Pretty
                ? TrainWithProgressBar(trainer, train, dev, options.Steps, interrupt.Token)
                : trainer.Train(train, dev, new LineProgress(output), interrupt.Token);
        }
        catch (OperationCanceledException) when (interrupt.IsRequested)
        {
            throw new UserErrorException($"Interrupted after step {trainer.CompletedSteps}/{options.Steps}; " + (trainer.LastCheckpointStep == trainer.CompletedSteps
                ? $"continue with --resume {checkpointPath}."
                : "nothing was saved (use --checkpoint-every to keep the progress)."));
        }
        catch (NonFiniteLossException e)
        {
            // A tenth of the rate that blew up, or the preset's own rate if that is lower (1e30 / 10 helps nobody).
            double? suggestion = e.SuggestedLearningRate is float tenth ? Math.Min(tenth, preset.Training.LearningRate.At(0, options.Steps)) : null;
            string remedy = suggestion is double s
                ? $" Try --learning-rate {s.ToString("G3", CultureInfo.InvariantCulture)}{(e.HasBatchNorm ? "" : $" or a preset with BatchNorm ({(preset.Config.IsDense ? "mnist1d-res-bn" : "bn1")})")}."
                : " Lower the learning rate.";
            string kept = trainer.LastCheckpointStep is int at ? $" The last good checkpoint, at step {at}, is '{checkpointPath}'." : "";
            throw new UserErrorException(e.Diagnosis + remedy + kept);
        }
        return (network, result);
    }

    private static void ReportAndSample(Request r, MlpNetwork network, TrainingResult result, Vocabulary? vocabulary, CharacterDataset? trainSet, CharacterDataset? devSet,
        string source, TrainingEngine resolved, string? checkpointPath, CommandOutput output, JsonObject figures)
    {
        figures["loss"] = result.LastBatchLoss;
        if (result.ValidationLoss is double v) figures["devLoss"] = v;
        figures["data"] = source;
        figures["parameters"] = network.ParameterCount;

        if (vocabulary is not null)
        {
            // The final figures in evaluation mode (BatchNorm's running statistics) over the whole splits.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            network.ReleaseWorkspaces();
            network.Threads = 1;
            var model = new BatchNormCharacterModel(network, vocabulary, null);
            CharacterModelMetrics trainMetrics = model.Evaluate(trainSet!);
            CharacterModelMetrics? devMetrics = devSet is { Count: > 0 } ? model.Evaluate(devSet) : null;
            output.Line(string.Create(CultureInfo.InvariantCulture, $"train loss {trainMetrics.Loss:F4}{(devMetrics is null ? "" : $"  dev loss {devMetrics.Loss:F4}")}  (evaluation mode, whole splits: {trainMetrics.Count} / {devMetrics?.Count ?? 0} rows)"));
            figures["trainLoss"] = trainMetrics.Loss;
            if (devMetrics is not null) figures["devLoss"] = devMetrics.Loss;
            if (r.Samples > 0)
            {
                IReadOnlyList<string> names = model.Sample(r.Samples, seed: unchecked((int)r.Seed));
                output.Line($"{names.Count} samples: {string.Join(' ', names)}");
                figures["samples"] = new JsonArray([.. names.Select(n => (JsonNode)n)]);
            }
            figures["evaluationSeconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3);
        }
        output.Line(string.Create(CultureInfo.InvariantCulture, $"done: {result.Steps} steps in {result.Elapsed.TotalSeconds:F1} s ({result.StepsPerSecond:F0} steps/s), model {r.Out}"));
        figures["engine"] = resolved.ToString().ToLowerInvariant();
        figures["model"] = Path.GetFullPath(r.Out);
        if (checkpointPath is not null) figures["checkpoint"] = Path.GetFullPath(checkpointPath);
        figures["trainingSeconds"] = Math.Round(result.Elapsed.TotalSeconds, 3);
        figures["stepsPerSecond"] = Math.Round(result.StepsPerSecond, 1);
        using (var self = System.Diagnostics.Process.GetCurrentProcess())
            figures["peakWorkingSetBytes"] = self.PeakWorkingSet64;
    }

    // A live bar on the terminal: step, loss, steps/s and the time left. Spectre redraws it from its own thread.
    private static TrainingResult TrainWithProgressBar(Trainer trainer, Dataset train, Dataset? dev, int totalSteps, CancellationToken cancel)
    {
        TrainingResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                ProgressTask task = ctx.AddTask("training", maxValue: totalSteps);
                task.Value = trainer.CompletedSteps;
                result = trainer.Train(train, dev, new BarProgress(task), cancel);
            });
        return result!;
    }

    private sealed class BarProgress(ProgressTask task) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            task.Description = string.Create(CultureInfo.InvariantCulture, $"step {p.Step}/{p.TotalSteps}  loss {p.Loss:F4}  {p.StepsPerSecond:F0} steps/s");
            task.Value = p.Step;
        }
    }

    private static (Dataset Train, Dataset? Dev, Vocabulary? Vocabulary, string Source, CharacterDataset? TrainSet, CharacterDataset? DevSet) LoadData(
        string preset, string? path, int context)
    {
        if (Presets.Get(preset).Config.IsDense)
        {
            var (train, test) = Mnist1dDataset.LoadStandard(path);
            return (Dataset.FromDense(train.Features, Mnist1dDataset.Width, train.Labels), Dataset.FromDense(test.Features, Mnist1dDataset.Width, test.Labels), null, train.Source, null, null);
        }
        CharacterData.Corpus corpus = CharacterData.Load(path);
        Vocabulary vocabulary = Vocabulary.FromCorpus(corpus.Names);
        CharacterDataset trainSet = CharacterData.Featurize(corpus.Split.Train, vocabulary, context, corpus.Path);
        CharacterDataset devSet = CharacterData.Featurize(corpus.Split.Dev, vocabulary, context, corpus.Path);
        if (trainSet.Count < 2) throw new UserErrorException($"'{corpus.Path}' gives {trainSet.Count} training rows; training needs at least 2.");
        return (trainSet.Rows, devSet.Count > 0 ? devSet.Rows : null, vocabulary, corpus.Path, trainSet, devSet);
    }

    private static string DefaultCheckpointPath(string model) =>
        Path.ChangeExtension(model, null) + ".checkpoint.safetensors";

    private static LearningRateSchedule WithInitialRate(LearningRateSchedule schedule, double rate) => schedule switch
    {
        StepDecaySchedule d => d with { Initial = rate },
        _ => new ConstantSchedule(rate),
    };

    // Synchronous, so that a line is on stdout before the next step starts (Progress<T> would post it to the thread pool).
    private sealed class LineProgress(CommandOutput output, string prefix = "") : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p) => output.Line(prefix + string.Create(CultureInfo.InvariantCulture,
            $"step {p.Step}/{p.TotalSteps}  loss {p.Loss:F4}  lr {p.LearningRate:G4}  {p.StepsPerSecond:F0} steps/s{(p.ValidationLoss is double v ? $"  dev {v:F4}" : "")}"));
    }
}
