using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>The training set a checkpoint was written for: its row count and <see cref="DataFingerprint"/>.</summary>
internal sealed record DataIdentity(int Rows, string Sha256);

/// <summary>
/// Everything a checkpoint file holds: the architecture, the vocabulary (null for dense models), the training options
/// that fix the run (<see cref="CheckpointFile"/> lists which), the training data's identity and the run's state.
/// </summary>
internal sealed record SavedCheckpoint(MlpConfig Config, IReadOnlyList<string>? Vocabulary, TrainingOptions Training, DataIdentity Data, TrainingCheckpoint State);

/// <summary>
/// The checkpoint file: a safetensors file (<see cref="SafeTensors"/>, written atomically, so the previous checkpoint
/// stays whole until the new one is complete) holding the network's tensors under their own names (weights and
/// BatchNorm running statistics), the optimizer's state under <c>optimizer.{slot}.{parameter}</c> (<c>momentum_buffer</c>,
/// or Adam's and AdamW's <c>exp_avg</c> and <c>exp_avg_sq</c>), with an EMA of the weights its average under
/// <c>ema.{parameter}</c> (after the first step), and in <c>__metadata__</c>:
/// <list type="bullet">
/// <item><c>format</c> = <c>bnmlp-checkpoint/1</c>; <c>config</c> (<see cref="MlpConfigJson"/>); <c>vocabulary</c> (JSON strings, symbol models only);</item>
/// <item><c>training</c>: the options an exact resume needs unchanged (seed, steps, batch size, sampling, optimizer and its
/// hyperparameters, learning-rate schedule, dropout, EMA decay) and, for information, the thread count; files written before
/// dropout and the EMA existed have neither entry and read as 0 (what those runs did);</item>
/// <item><c>data</c>: <c>{"rows": N, "sha256": ...}</c> of the training set;</item>
/// <item><c>step</c> (steps completed: also the schedule's and the validation cadence's position), <c>optimizer_steps</c>,
/// <c>loss</c> and <c>validation_loss</c> (the last ones measured);</item>
/// <item><c>sampler</c>: the generator's state words and spare Gaussian in hexadecimal, and for shuffled epochs the state
/// before the epoch's shuffle (which rebuilds the permutation) and the cursor in it, and with dropout the mask
/// generator's state (<c>dropout</c>; null or absent without);</item>
/// <item><c>sha256</c>: a hash of every other metadata entry and every tensor, so that any corruption is refused.</item>
/// </list>
/// Loading is strict: every fault is a <see cref="ModelFormatException"/> naming the file and the entry or tensor.
/// </summary>
internal static class CheckpointFile
{
    public const string FormatName = "bnmlp-checkpoint/1";
    private const string OptimizerPrefix = "optimizer.";
    private const string EmaPrefix = "ema.";
    private static readonly string[] MetadataKeys = ["format", "config", "vocabulary", "training", "data", "step", "optimizer_steps", "loss", "validation_loss", "sampler", "sha256"];

    public static void Save(string path, SavedCheckpoint checkpoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(path); ArgumentNullException.ThrowIfNull(checkpoint);
        var s = checkpoint.State;
        var tensors = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (var t in s.Network) tensors.Add(t.Name, new NamedTensor(t.Shape, t.Data));
        foreach (var t in s.Optimizer) tensors.Add(OptimizerPrefix + t.Name, new NamedTensor(t.Shape, t.Data));
        foreach (var t in s.Ema) tensors.Add(EmaPrefix + t.Name, new NamedTensor(t.Shape, t.Data));
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = FormatName,
            ["config"] = MlpConfigJson.Write(checkpoint.Config),
            ["training"] = WriteTraining(checkpoint.Training),
            ["data"] = Json(w => { w.WriteNumber("rows", checkpoint.Data.Rows); w.WriteString("sha256", checkpoint.Data.Sha256); }),
            ["step"] = Int(s.CompletedSteps),
            ["optimizer_steps"] = Int(s.OptimizerSteps),
            ["loss"] = s.LastLoss.ToString("R", CultureInfo.InvariantCulture),
            ["validation_loss"] = s.LastValidationLoss is double v ? v.ToString("R", CultureInfo.InvariantCulture) : "null",
            ["sampler"] = Json(w =>
            {
                WriteRng(w, s.Sampler);
                if (s.EpochStart is { } start) { w.WriteStartObject("epoch_start"); WriteRng(w, start); w.WriteEndObject(); }
                else w.WriteNull("epoch_start");
                w.WriteNumber("cursor", s.Cursor);
                if (s.DropoutSampler is { } dropout) { w.WriteStartObject("dropout"); WriteRng(w, dropout); w.WriteEndObject(); }
                else w.WriteNull("dropout");
            }),
        };
        if (checkpoint.Vocabulary is not null)
            metadata["vocabulary"] = JsonSerializer.Serialize(checkpoint.Vocabulary.ToArray(), VocabularyJson.Default.StringArray);
        metadata["sha256"] = ContentHash(metadata, tensors);
        SafeTensors.Write(path, tensors, metadata);
    }

    public static SavedCheckpoint Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var content = SafeTensors.Read(path);
        var meta = content.Metadata;
        ModelFormatException Fail(string message, Exception? inner = null)
        {
            string text = $"'{path}' is not a valid {FormatName} file: {message}.";
            return inner is null ? new ModelFormatException(text) : new ModelFormatException(text, inner);
        }

        if (!meta.TryGetValue("format", out var format))
            throw Fail("the metadata has no 'format' entry (a safetensors file from another tool?)");
        if (format != FormatName)
            throw Fail(format == ModelFile.FormatName
                ? $"it is a model file ('{format}'), not a checkpoint; checkpoints are written by training with a checkpoint path"
                : $"the metadata 'format' is '{format}', but this version reads '{FormatName}'");
        foreach (var key in meta.Keys)
            if (Array.IndexOf(MetadataKeys, key) < 0) throw Fail($"the metadata has an unexpected entry '{key}'");
        foreach (var key in MetadataKeys)
            if (key != "vocabulary" && !meta.ContainsKey(key)) throw Fail($"the metadata has no '{key}' entry");
        // Checked first: after this, any fault below is a writer's bug, not a flipped bit.
        if (ContentHash(meta, content.Tensors) != meta["sha256"])
            throw Fail("its contents do not match its 'sha256' (the file is corrupted or was edited)");

        MlpConfig config;
        try { config = MlpConfigJson.Read(meta["config"]); }
        catch (FormatException ex) { throw Fail($"metadata 'config': {ex.Message}", ex); }

        IReadOnlyList<string>? vocabulary = null;
        if (meta.TryGetValue("vocabulary", out var vocabularyText))
        {
            try { vocabulary = JsonSerializer.Deserialize(vocabularyText, VocabularyJson.Default.StringArray); }
            catch (JsonException ex) { throw Fail($"the metadata 'vocabulary' is not a JSON array of strings ({ex.Message})", ex); }
            if (vocabulary is null || vocabulary.Any(v => v is null)) throw Fail("the metadata 'vocabulary' is not a JSON array of strings");
        }
        if (config.IsDense != (vocabulary is null))
            throw Fail(config.IsDense ? "a dense-input model has no vocabulary, but one is given" : "a symbol model needs its vocabulary, which is missing");
        if (vocabulary is not null)
        {
            if (vocabulary.Count != config.VocabularySize)
                throw Fail($"the vocabulary holds {vocabulary.Count} symbols but the config's vocabulary size is {config.VocabularySize}");
            if (vocabulary.Distinct(StringComparer.Ordinal).Count() != vocabulary.Count)
                throw Fail("the vocabulary repeats a symbol");
        }

        TrainingOptions training;
        DataIdentity data;
        TrainingCheckpoint state;
        try
        {
            training = ReadTraining(meta["training"]);
            data = ReadObject(meta["data"], "data", o => new DataIdentity(ReadInt(o, "rows", 2, int.MaxValue), ReadHex(o, "sha256", 64)));
            int step = ParseInt(meta["step"], "step", 0, training.Steps);
            int optimizerSteps = ParseInt(meta["optimizer_steps"], "optimizer_steps", 0, step);
            double loss = ParseDouble(meta["loss"], "loss", allowNull: false)!.Value;
            double? validationLoss = ParseDouble(meta["validation_loss"], "validation_loss", allowNull: true);
            var (sampler, epochStart, cursor, dropout) = ReadObject(meta["sampler"], "sampler", o =>
                (ReadRng(o, "sampler"), o.GetProperty("epoch_start").ValueKind == JsonValueKind.Null ? (RngState?)null : ReadRng(o.GetProperty("epoch_start"), "sampler.epoch_start"),
                 ReadInt(o, "cursor", 0, data.Rows),
                 !o.TryGetProperty("dropout", out var d) || d.ValueKind == JsonValueKind.Null ? (RngState?)null : ReadRng(d, "sampler.dropout")));
            if (training.Sampling == Sampling.WithReplacement && (epochStart is not null || cursor != 0))
                throw new FormatException("'sampler' has an epoch state but the run samples with replacement");
            if ((dropout is null) != (training.Dropout == 0))
                throw new FormatException(dropout is null ? "'sampler' has no dropout generator but the run has dropout" : "'sampler' has a dropout generator but the run has no dropout");
            var (network, optimizer, ema) = ReadTensors(config, training, step, content.Tensors);
            state = new TrainingCheckpoint(step, sampler, epochStart, cursor, network, optimizer, optimizerSteps, loss, validationLoss, dropout, ema);
        }
        catch (FormatException ex) when (ex is not ModelFormatException) { throw Fail(ex.Message, ex); }
        return new SavedCheckpoint(config, vocabulary, training, data, state);
    }

    /// <summary>
    /// Everything that keeps <paramref name="saved"/> from continuing as this run: architecture, vocabulary, the
    /// training options of <see cref="FixedOptions"/> and the training data. Empty when it can resume exactly.
    /// Each entry reads "the checkpoint has X, the run asks for Y".
    /// </summary>
    public static List<string> Differences(SavedCheckpoint saved, MlpConfig config, IReadOnlyList<string>? vocabulary, TrainingOptions options, DataIdentity data)
    {
        var list = new List<string>();
        void Compare<T>(string what, T had, T wants, Func<T, string>? show = null)
        {
            if (!EqualityComparer<T>.Default.Equals(had, wants))
                list.Add($"the checkpoint has {what} {(show ?? (v => Convert.ToString(v, CultureInfo.InvariantCulture)!))(had)}, the run asks for {(show ?? (v => Convert.ToString(v, CultureInfo.InvariantCulture)!))(wants)}");
        }
        var c = saved.Config;
        Compare("context length", c.ContextLength, config.ContextLength);
        Compare("vocabulary size", c.VocabularySize, config.VocabularySize);
        Compare("embedding width", c.EmbeddingWidth, config.EmbeddingWidth);
        Compare("dense input width", c.DenseInputWidth, config.DenseInputWidth);
        Compare("output width", c.OutputWidth, config.OutputWidth);
        if (!c.HiddenWidths.SequenceEqual(config.HiddenWidths))
            list.Add($"the checkpoint has hidden widths [{string.Join(", ", c.HiddenWidths)}], the run asks for [{string.Join(", ", config.HiddenWidths)}]");
        Compare("activation", c.Activation, config.Activation);
        if ((c.ActivationGroups ?? config.ActivationGroups) is not null && !c.EffectiveActivations.SequenceEqual(config.EffectiveActivations))
            list.Add($"the checkpoint has activation groups [{string.Join(", ", c.EffectiveActivations)}], the run asks for [{string.Join(", ", config.EffectiveActivations)}]");
        Compare("block style", c.BlockStyle, config.BlockStyle);
        Compare("residual streams", c.Residual, config.Residual, OnOff);
        Compare("hidden bias", c.HiddenBias, config.HiddenBias, OnOff);
        Compare("hidden BatchNorm", c.HiddenBatchNorm, config.HiddenBatchNorm, OnOff);
        Compare("output bias", c.OutputBias, config.OutputBias, OnOff);
        Compare("output BatchNorm", c.OutputBatchNorm, config.OutputBatchNorm, OnOff);
        Compare("BatchNorm epsilon", c.BatchNormEpsilon, config.BatchNormEpsilon);
        Compare("BatchNorm momentum", c.BatchNormMomentum, config.BatchNormMomentum);

        if (saved.Vocabulary is { } had && vocabulary is { } wants)
        {
            int at = Enumerable.Range(0, Math.Min(had.Count, wants.Count)).FirstOrDefault(i => had[i] != wants[i], -1);
            if (at >= 0) list.Add($"the checkpoint's vocabulary has '{had[at]}' at id {at}, the run's has '{wants[at]}'");
            else if (had.Count != wants.Count) list.Add($"the checkpoint's vocabulary holds {had.Count} symbols, the run's {wants.Count}");
        }
        else if ((saved.Vocabulary is null) != (vocabulary is null))
            list.Add(saved.Vocabulary is null ? "the checkpoint has no vocabulary, the run has one" : "the checkpoint has a vocabulary, the run has none");

        var t = saved.Training;
        Compare("seed", t.Seed, options.Seed);
        Compare("steps", t.Steps, options.Steps);
        Compare("batch size", t.BatchSize, options.BatchSize);
        Compare("sampling", t.Sampling, options.Sampling);
        Compare("optimizer", t.Optimizer, options.Optimizer);
        Compare("learning rate", t.LearningRate, options.LearningRate, Describe);
        Compare("weight decay", t.WeightDecay, options.WeightDecay);
        Compare("dropout", t.Dropout, options.Dropout);
        Compare("EMA decay", t.EmaDecay, options.EmaDecay);
        if (options.Optimizer == OptimizerKind.Sgd) Compare("momentum", t.Momentum, options.Momentum);
        else
        {
            Compare("Adam beta1", t.AdamBeta1, options.AdamBeta1);
            Compare("Adam beta2", t.AdamBeta2, options.AdamBeta2);
            Compare("Adam epsilon", t.AdamEpsilon, options.AdamEpsilon);
        }

        if (saved.Data != data)
            list.Add($"the checkpoint was written for a training set of {saved.Data.Rows} rows (SHA-256 {saved.Data.Sha256[..12]}...), the run's has {data.Rows} rows (SHA-256 {data.Sha256[..12]}...)");
        return list;
    }

    /// <summary>The training options a checkpoint records and a resume must match (the thread count is recorded but may differ).</summary>
    public static TrainingOptions FixedOptions(TrainingOptions o) => new()
    {
        Seed = o.Seed, Steps = o.Steps, BatchSize = o.BatchSize, Sampling = o.Sampling, Optimizer = o.Optimizer, LearningRate = o.LearningRate,
        Momentum = o.Momentum, WeightDecay = o.WeightDecay, AdamBeta1 = o.AdamBeta1, AdamBeta2 = o.AdamBeta2, AdamEpsilon = o.AdamEpsilon, Threads = o.Threads,
        Dropout = o.Dropout, EmaDecay = o.EmaDecay,
    };

    /// <summary>Deletes temporary files that an interrupted <see cref="Save"/> of <paramref name="path"/> left behind (a killed process cannot clean up).</summary>
    public static void DeleteStaleTemporaryFiles(string path)
    {
        string full = Path.GetFullPath(path);
        string? directory = Path.GetDirectoryName(full);
        if (directory is null || !Directory.Exists(directory)) return;
        string prefix = $".{Path.GetFileName(full)}.";
        foreach (var file in Directory.EnumerateFiles(directory, prefix + "*.tmp"))
        {
            string middle = Path.GetFileName(file)[prefix.Length..^4];
            if (middle.Length == 32 && middle.All(char.IsAsciiHexDigitLower))   // SafeTensors.Write's Guid "N" names only
                try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    public static string Describe(LearningRateSchedule schedule) => schedule switch
    {
        ConstantSchedule c => $"{Num(c.Rate)} (constant)",
        StepDecaySchedule d => $"{Num(d.Initial)} then x{Num(d.Factor)} at step {(d.AtStep is int at ? Int(at) : "half-way")}",
        _ => schedule.ToString(),
    };

    private static string OnOff(bool on) => on ? "on" : "off";

    private static (List<TensorValue> Network, List<TensorValue> Optimizer, List<TensorValue> Ema) ReadTensors(MlpConfig config, TrainingOptions training, int step, IReadOnlyDictionary<string, NamedTensor> tensors)
    {
        var layout = TensorLayout.Expected(config);
        string[] slots = training.Optimizer is OptimizerKind.Adam or OptimizerKind.AdamW ? ["exp_avg", "exp_avg_sq"] : training.Momentum != 0 ? ["momentum_buffer"] : [];
        var expected = new List<(string FileName, string StateName, TensorSpec Spec)>();
        foreach (var spec in layout) expected.Add((spec.Name, spec.Name, spec));
        foreach (var slot in slots)
            foreach (var spec in layout.Where(s => s.Role == TensorRole.Parameter))
                expected.Add(($"{OptimizerPrefix}{slot}.{spec.Name}", $"{slot}.{spec.Name}", spec));
        if (training.EmaDecay > 0 && step > 0)   // the average starts at the first step
            foreach (var spec in layout.Where(s => s.Role == TensorRole.Parameter))
                expected.Add(($"{EmaPrefix}{spec.Name}", spec.Name, spec));

        var missing = expected.Where(e => !tensors.ContainsKey(e.FileName)).Select(e => $"'{e.FileName}'").ToList();
        if (missing.Count > 0) throw new FormatException($"tensor(s) {string.Join(", ", missing)} are missing");
        var names = expected.Select(e => e.FileName).ToHashSet(StringComparer.Ordinal);
        var unexpected = tensors.Keys.Where(n => !names.Contains(n)).Order(StringComparer.Ordinal).Select(n => $"'{n}'").ToList();
        if (unexpected.Count > 0) throw new FormatException($"tensor(s) {string.Join(", ", unexpected)} are not part of this config and optimizer");

        var network = new List<TensorValue>();
        var optimizer = new List<TensorValue>();
        var ema = new List<TensorValue>();
        foreach (var (fileName, stateName, spec) in expected)
        {
            var t = tensors[fileName];
            if (!t.Shape.AsSpan().SequenceEqual(spec.Shape))
                throw new FormatException($"tensor '{fileName}' has shape [{string.Join(", ", t.Shape)}] but the config needs [{string.Join(", ", spec.Shape)}]");
            int bad = Array.FindIndex(t.Data, v => !float.IsFinite(v));
            if (bad >= 0) throw new FormatException($"tensor '{fileName}' holds {t.Data[bad]} at flat index {bad}");
            (fileName == stateName ? network : fileName.StartsWith(EmaPrefix, StringComparison.Ordinal) ? ema : optimizer).Add(new TensorValue(stateName, t.Shape, t.Data));
        }
        return (network, optimizer, ema);
    }

    // The hash covers the metadata (without 'sha256') and the tensors, each in ordinal order of its name, with lengths
    // so that no two different contents hash the same bytes.
    private static string ContentHash(IReadOnlyDictionary<string, string> metadata, IReadOnlyDictionary<string, NamedTensor> tensors)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var number = new byte[8];
        void Text(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            BinaryPrimitives.WriteInt64LittleEndian(number, bytes.Length);
            hash.AppendData(number);
            hash.AppendData(bytes);
        }
        foreach (var key in metadata.Keys.Where(k => k != "sha256").Order(StringComparer.Ordinal)) { Text(key); Text(metadata[key]); }
        foreach (var name in tensors.Keys.Order(StringComparer.Ordinal))
        {
            var t = tensors[name];
            Text(name);
            Text(string.Join(",", t.Shape));
            if (BitConverter.IsLittleEndian) hash.AppendData(MemoryMarshal.AsBytes(t.Data.AsSpan()));
            else foreach (float f in t.Data) { BinaryPrimitives.WriteSingleLittleEndian(number, f); hash.AppendData(number, 0, 4); }
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static string WriteTraining(TrainingOptions o) => Json(w =>
    {
        w.WriteNumber("seed", o.Seed);
        w.WriteNumber("steps", o.Steps);
        w.WriteNumber("batch_size", o.BatchSize);
        w.WriteString("sampling", o.Sampling switch { Sampling.WithReplacement => "with_replacement", Sampling.ShuffledEpochs => "shuffled_epochs", _ => throw new ArgumentOutOfRangeException(nameof(o)) });
        w.WriteString("optimizer", o.Optimizer switch { OptimizerKind.Sgd => "sgd", OptimizerKind.Adam => "adam", OptimizerKind.AdamW => "adamw", _ => throw new ArgumentOutOfRangeException(nameof(o)) });
        w.WriteNumber("momentum", o.Momentum);
        w.WriteNumber("weight_decay", o.WeightDecay);
        w.WriteNumber("adam_beta1", o.AdamBeta1);
        w.WriteNumber("adam_beta2", o.AdamBeta2);
        w.WriteNumber("adam_epsilon", o.AdamEpsilon);
        w.WriteNumber("dropout", o.Dropout);
        w.WriteNumber("ema_decay", o.EmaDecay);
        w.WriteStartObject("learning_rate");
        switch (o.LearningRate)
        {
            case ConstantSchedule c: w.WriteString("kind", "constant"); w.WriteNumber("rate", c.Rate); break;
            case StepDecaySchedule d:
                w.WriteString("kind", "step_decay"); w.WriteNumber("initial", d.Initial); w.WriteNumber("factor", d.Factor);
                if (d.AtStep is int at) w.WriteNumber("at_step", at); else w.WriteNull("at_step");
                break;
            default: throw new ArgumentException($"A checkpoint cannot record the learning-rate schedule {o.LearningRate}.", nameof(o));
        }
        w.WriteEndObject();
        w.WriteNumber("threads", o.Threads);
    });

    private static TrainingOptions ReadTraining(string text) => ReadObject(text, "training", o =>
    {
        var schedule = o.GetProperty("learning_rate");
        if (schedule.ValueKind != JsonValueKind.Object) throw new FormatException("'training.learning_rate' is not an object");
        LearningRateSchedule lr = ReadString(schedule, "kind") switch
        {
            "constant" => new ConstantSchedule(ReadFinite(schedule, "rate")),
            "step_decay" => new StepDecaySchedule(ReadFinite(schedule, "initial"), ReadFinite(schedule, "factor"),
                schedule.GetProperty("at_step").ValueKind == JsonValueKind.Null ? null : ReadInt(schedule, "at_step", 0, int.MaxValue)),
            var k => throw new FormatException($"'training.learning_rate.kind' is '{k}', not 'constant' or 'step_decay'"),
        };
        if (!o.GetProperty("seed").TryGetUInt64(out ulong seed)) throw new FormatException("'training.seed' is not an unsigned 64-bit integer");
        var options = new TrainingOptions
        {
            Seed = seed,
            Steps = ReadInt(o, "steps", 0, int.MaxValue),
            BatchSize = ReadInt(o, "batch_size", 1, int.MaxValue),
            Sampling = ReadString(o, "sampling") switch
            {
                "with_replacement" => Sampling.WithReplacement,
                "shuffled_epochs" => Sampling.ShuffledEpochs,
                var s => throw new FormatException($"'training.sampling' is '{s}', not 'with_replacement' or 'shuffled_epochs'"),
            },
            Optimizer = ReadString(o, "optimizer") switch
            {
                "sgd" => OptimizerKind.Sgd,
                "adam" => OptimizerKind.Adam,
                "adamw" => OptimizerKind.AdamW,
                var s => throw new FormatException($"'training.optimizer' is '{s}', not 'sgd', 'adam' or 'adamw'"),
            },
            Momentum = (float)ReadFinite(o, "momentum"),
            WeightDecay = (float)ReadFinite(o, "weight_decay"),
            AdamBeta1 = (float)ReadFinite(o, "adam_beta1"),
            AdamBeta2 = (float)ReadFinite(o, "adam_beta2"),
            AdamEpsilon = (float)ReadFinite(o, "adam_epsilon"),
            LearningRate = lr,
            Threads = ReadInt(o, "threads", 1, 4096),
            Dropout = o.TryGetProperty("dropout", out _) ? (float)ReadFraction(o, "dropout") : 0,
            EmaDecay = o.TryGetProperty("ema_decay", out _) ? (float)ReadFraction(o, "ema_decay") : 0,
        };
        return options;
    });

    private static void WriteRng(Utf8JsonWriter w, RngState s)
    {
        w.WriteStartArray("state");
        foreach (ulong word in (ReadOnlySpan<ulong>)[s.S0, s.S1, s.S2, s.S3]) w.WriteStringValue(word.ToString("x16", CultureInfo.InvariantCulture));
        w.WriteEndArray();
        w.WriteString("spare_gaussian", BitConverter.SingleToUInt32Bits(s.SpareGaussian).ToString("x8", CultureInfo.InvariantCulture));
        w.WriteBoolean("has_spare", s.HasSpare);
    }

    private static RngState ReadRng(JsonElement o, string what)
    {
        var words = o.GetProperty("state");
        if (words.ValueKind != JsonValueKind.Array || words.GetArrayLength() != 4) throw new FormatException($"'{what}.state' is not an array of 4 words");
        var s = words.EnumerateArray().Select((w, i) => ParseHex(w, $"{what}.state[{i}]", 16)).ToArray();
        if (s.All(x => x == 0)) throw new FormatException($"'{what}.state' is all zero, which no generator reaches");
        float spare = BitConverter.UInt32BitsToSingle((uint)ParseHex(o.GetProperty("spare_gaussian"), $"{what}.spare_gaussian", 8));
        var has = o.GetProperty("has_spare");
        if (has.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw new FormatException($"'{what}.has_spare' is not true or false");
        return new RngState(s[0], s[1], s[2], s[3], spare, has.GetBoolean());
    }

    private static ulong ParseHex(JsonElement e, string what, int digits)
    {
        string? text = e.ValueKind == JsonValueKind.String ? e.GetString() : null;
        if (text is null || text.Length != digits || !ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong value))
            throw new FormatException($"'{what}' is {e.GetRawText()}, not {digits} hexadecimal digits");
        return value;
    }

    private static string ReadHex(JsonElement o, string key, int digits)
    {
        string text = ReadString(o, key);
        if (text.Length != digits || !text.All(char.IsAsciiHexDigitLower)) throw new FormatException($"'{key}' is not {digits} lowercase hexadecimal digits");
        return text;
    }

    private static T ReadObject<T>(string text, string what, Func<JsonElement, T> read)
    {
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 4 });
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new FormatException($"the metadata '{what}' is not a JSON object");
            return read(document.RootElement);
        }
        catch (JsonException ex) { throw new FormatException($"the metadata '{what}' is not valid JSON ({ex.Message})", ex); }
        catch (KeyNotFoundException ex) { throw new FormatException($"the metadata '{what}' lacks an entry ({ex.Message})", ex); }
        catch (InvalidOperationException ex) { throw new FormatException($"the metadata '{what}' has a mistyped entry ({ex.Message})", ex); }
    }

    private static int ReadInt(JsonElement o, string key, int min, int max)
    {
        var v = o.GetProperty(key);
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int n) || n < min || n > max)
            throw new FormatException($"'{key}' is {v.GetRawText()}, not an integer in [{min}, {max}]");
        return n;
    }

    private static double ReadFinite(JsonElement o, string key)
    {
        var v = o.GetProperty(key);
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d))
            throw new FormatException($"'{key}' is {v.GetRawText()}, not a finite number");
        return d;
    }

    // Dropout and EMA decay: in [0, 1), as TrainingOptions.Validate demands.
    private static double ReadFraction(JsonElement o, string key)
    {
        double d = ReadFinite(o, key);
        return d is >= 0 and < 1 ? d : throw new FormatException($"'{key}' is {d.ToString("R", CultureInfo.InvariantCulture)}, not in [0, 1)");
    }

    private static string ReadString(JsonElement o, string key)
    {
        var v = o.GetProperty(key);
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new FormatException($"'{key}' is {v.GetRawText()}, not a string");
    }

    private static int ParseInt(string text, string key, int min, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max
            ? n : throw new FormatException($"the metadata '{key}' is '{text}', not an integer in [{min}, {max}]");

    private static double? ParseDouble(string text, string key, bool allowNull) =>
        allowNull && text == "null" ? null
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d
        : throw new FormatException($"the metadata '{key}' is '{text}', not a number");

    private static string Json(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Int(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Num(double d) => d.ToString("R", CultureInfo.InvariantCulture);
}
