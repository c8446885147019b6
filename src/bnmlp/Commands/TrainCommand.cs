using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.BatchNormMlp;
using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Featurization;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;

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
        Option<int> progressEvery = CommonOptions.Int("--progress-every", 1000, 1, int.MaxValue, "Print a progress line every N steps");

        var command = new Command("train", "Train a preset; write the model file and, optionally, checkpoints to resume from.")
        {
            data, preset, steps, seed, threads, learningRate, output, checkpointEvery, checkpoint, resume, progressEvery,
        };
        CommandAction.Set(command, (parse, console, figures) => Run(new Request(
            parse.GetValue(data), parse.GetRequiredValue(preset), parse.GetValue(steps), parse.GetValue(seed), parse.GetValue(threads),
            parse.GetValue(learningRate), parse.GetValue(output) ?? "model.safetensors", parse.GetValue(checkpointEvery), parse.GetValue(checkpoint),
            parse.GetValue(resume), parse.GetValue(progressEvery)), console, figures));
        return command;
    }

    private sealed record Request(string? Data, string Preset, int Steps, long Seed, int Threads, double? LearningRate, string Out,
        int CheckpointEvery, string? Checkpoint, string? Resume, int ProgressEvery);

    private static void Run(Request r, CommandOutput output, JsonObject figures)
    {
        var (train, dev, vocabulary, source) = LoadData(r.Preset, r.Data);
        Preset preset = Presets.Get(r.Preset, vocabulary?.Count ?? 27);
        string? checkpointPath = r.Checkpoint ?? r.Resume ?? (r.CheckpointEvery > 0 ? DefaultCheckpointPath(r.Out) : null);
        TrainingOptions options = preset.Training with
        {
            Steps = r.Steps > 0 ? r.Steps : preset.Training.Steps,
            Seed = unchecked((ulong)r.Seed),
            Threads = r.Threads,
            LearningRate = r.LearningRate is double lr ? WithInitialRate(preset.Training.LearningRate, lr) : preset.Training.LearningRate,
            ProgressEvery = r.ProgressEvery,
            CheckpointPath = checkpointPath,
            CheckpointEvery = r.CheckpointEvery,
        };

        var network = new MlpNetwork(preset.Config);
        Initialization.Initialize(network, preset.Init, new Rng(options.Seed));
        var trainer = new Trainer(network, options, vocabulary?.Symbols);
        output.Line($"data: {source} ({train.Count} training rows)");
        if (r.Resume is not null)
        {
            SavedCheckpoint saved = trainer.Resume(r.Resume, train);
            output.Line($"resumed: {r.Resume} at step {saved.State.CompletedSteps}/{options.Steps}"
                + (saved.Training.Threads != options.Threads ? $" (written with {saved.Training.Threads} threads, now {options.Threads}: not bit-identical to one run)" : ""));
        }
        output.Line($"preset: {preset.Name}, {network.ParameterCount} parameters, {options.Steps} steps, learning rate {CheckpointFile.Describe(options.LearningRate)}");

        // Fail now, not after the training, if the model cannot be written there.
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(r.Out))!);

        // Ctrl+C stops between two steps; with a checkpoint path the trainer saves that step first.
        using var interrupt = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; interrupt.Cancel(); };
        Console.CancelKeyPress += onCancel;
        TrainingResult result;
        try
        {
            result = trainer.Train(train, dev, new LineProgress(output), interrupt.Token);
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
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
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        ModelFile.Save(r.Out, new ModelState(network.Config, vocabulary?.Symbols, false,
            network.Tensors.ToDictionary(t => t.Name, t => t.Data, StringComparer.Ordinal)));
        output.Line($"done: {result.Steps} steps, last batch loss {result.LastBatchLoss:F4}, {(dev is null ? "" : $"dev loss {result.ValidationLoss:F4}, ")}model {r.Out}");

        figures["preset"] = preset.Name;
        figures["steps"] = result.Steps;
        figures["loss"] = result.LastBatchLoss;
        if (result.ValidationLoss is double v) figures["devLoss"] = v;
        figures["model"] = Path.GetFullPath(r.Out);
        if (checkpointPath is not null) figures["checkpoint"] = Path.GetFullPath(checkpointPath);
        figures["stepsPerSecond"] = Math.Round(result.StepsPerSecond, 1);
    }

    private static (Dataset Train, Dataset? Dev, Vocabulary? Vocabulary, string Source) LoadData(string preset, string? path)
    {
        if (Presets.Get(preset).Config.IsDense)
        {
            var (train, test) = Mnist1dDataset.LoadStandard(path);
            return (Dataset.FromDense(train.Features, Mnist1dDataset.Width, train.Labels), Dataset.FromDense(test.Features, Mnist1dDataset.Width, test.Labels), null, train.Source);
        }
        string file = DataPaths.Resolve(DataPaths.Names, path);
        NameCorpus corpus = NameCorpus.Load(file);
        Vocabulary vocabulary = Vocabulary.FromCorpus(corpus);
        CorpusSplit split = CorpusSplit.Create(corpus.Names);
        int context = Presets.Get(preset, vocabulary.Count).Config.ContextLength;
        ContextWindows trainRows = ContextWindowFeaturizer.Featurize(split.Train, vocabulary, context);
        ContextWindows devRows = ContextWindowFeaturizer.Featurize(split.Dev, vocabulary, context);
        if (trainRows.Count < 2) throw new UserErrorException($"'{file}' gives {trainRows.Count} training rows; training needs at least 2.");
        return (Dataset.FromContexts(trainRows.Contexts, context, trainRows.Targets),
            devRows.Count > 0 ? Dataset.FromContexts(devRows.Contexts, context, devRows.Targets) : null, vocabulary, file);
    }

    private static string DefaultCheckpointPath(string model) =>
        Path.ChangeExtension(model, null) + ".checkpoint.safetensors";

    private static LearningRateSchedule WithInitialRate(LearningRateSchedule schedule, double rate) => schedule switch
    {
        StepDecaySchedule d => d with { Initial = rate },
        _ => new ConstantSchedule(rate),
    };

    // Synchronous, so that a line is on stdout before the next step starts (Progress<T> would post it to the thread pool).
    private sealed class LineProgress(CommandOutput output) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p) => output.Line(string.Create(CultureInfo.InvariantCulture,
            $"step {p.Step}/{p.TotalSteps}  loss {p.Loss:F4}  lr {p.LearningRate:G4}  {p.StepsPerSecond:F0} steps/s{(p.ValidationLoss is double v ? $"  dev {v:F4}" : "")}"));
    }
}
