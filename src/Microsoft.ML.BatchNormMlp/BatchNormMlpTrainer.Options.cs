using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp;

public sealed partial class BatchNormMlpTrainer
{
    /// <summary>
    /// Options of <see cref="BatchNormMlpTrainer"/>: the columns, a preset, and any of its architecture and optimizer
    /// settings overridden. A property left <see langword="null"/> takes the preset's value; the context length and
    /// vocabulary come from the training data's context column. <see cref="Validate"/> names the first bad field and
    /// its allowed range. The trainer copies the options, so later changes do not affect it.
    /// </summary>
    public sealed class Options
    {
        /// <summary>The label column: a key of the next symbol (the featurizer's <c>Label</c>), or of the class for dense feature vectors.</summary>
        public string LabelColumnName { get; set; } = CharacterModelDefaults.LabelColumnName;

        /// <summary>
        /// The feature column: a vector of context-length keys (the featurizer's <c>Context</c>, the default), or a
        /// known-size vector of Single (dense features, e.g. ML.NET's <c>Features</c>), which trains a classifier of
        /// those vectors into the label's classes.
        /// </summary>
        public string FeatureColumnName { get; set; } = CharacterModelDefaults.ContextColumnName;

        /// <summary>Rows to report the validation loss on (same columns and vocabulary); <see langword="null"/>: none. <c>Fit(train, validation)</c> overrides it.</summary>
        public IDataView? ValidationData { get; set; }

        /// <summary>Receives a report every <see cref="ProgressInterval"/> steps and after the last; <see langword="null"/>: none.</summary>
        public IProgress<TrainingProgressReport>? Progress { get; set; }

        /// <summary>Stops training between two steps with an <see cref="OperationCanceledException"/>.</summary>
        public CancellationToken CancellationToken { get; set; }

        /// <summary>What computes the steps: the managed SIMD engine, libtorch through TorchSharp, or <see cref="TrainingEngine.Auto"/> (managed on the CPU, TorchSharp for CUDA).</summary>
        public TrainingEngine Engine { get; set; } = TrainingEngine.Auto;

        /// <summary>Where the steps run: <c>cpu</c> (default), <c>cuda</c> or <c>cuda:N</c> (TorchSharp engine, with a TorchSharp-cuda package in the application).</summary>
        public string Device { get; set; } = "cpu";

        /// <summary>
        /// The experiment to start from: one of <see cref="CharacterModelDefaults.Presets"/> (<see cref="CharacterModelDefaults.Preset"/>
        /// by default), or for a dense feature column also one of <see cref="CharacterModelDefaults.DenseInputPresets"/>.
        /// </summary>
        public string Preset { get; set; } = CharacterModelDefaults.Preset;

        /// <summary>Width of each symbol's embedding, 1 to <see cref="CharacterModelDefaults.MaxWidth"/>. Context (key) inputs only.</summary>
        public int? EmbeddingWidth { get; set; }

        /// <summary>Output width of each hidden layer, first to last (0 to <see cref="CharacterModelDefaults.MaxHiddenLayers"/> layers, each 1 to <see cref="CharacterModelDefaults.MaxWidth"/>).</summary>
        public IReadOnlyList<int>? HiddenWidths { get; set; }

        /// <summary>The hidden nonlinearity (of every ensemble member too: setting it replaces the preset's <see cref="EnsembleActivations"/>).</summary>
        public Activation? Activation { get; set; }

        /// <summary>How hidden layers arrange Linear, BatchNorm, activation and residual add.</summary>
        public BlockStyle? BlockStyle { get; set; }

        /// <summary>Whether hidden layers add their input back where the widths match (residual streams).</summary>
        public bool? Residual { get; set; }

        /// <summary>Whether hidden layers have a BatchNorm.</summary>
        public bool? BatchNorm { get; set; }

        /// <summary>Whether a BatchNorm follows the output layer (the third seed).</summary>
        public bool? OutputBatchNorm { get; set; }

        /// <summary>Whether hidden Linear layers have a bias (redundant before a BatchNorm).</summary>
        public bool? HiddenBias { get; set; }

        /// <summary>Whether the output Linear layer has a bias.</summary>
        public bool? OutputBias { get; set; }

        /// <summary>The Linear layers' initialization.</summary>
        public WeightInitialization? Initialization { get; set; }

        /// <summary>Factor on the initial output weights (the seeds use 0.01 or 0.1 to start near uniform predictions), in (0, 100].</summary>
        public float? OutputWeightScale { get; set; }

        /// <summary>The optimizer.</summary>
        public OptimizerAlgorithm? Optimizer { get; set; }

        /// <summary>The (initial) learning rate, in (0, 1000].</summary>
        public float? LearningRate { get; set; }

        /// <summary>How the learning rate changes over the run.</summary>
        public LearningRateDecay? Decay { get; set; }

        /// <summary>With <see cref="LearningRateDecay.Step"/>: the factor applied to the rate, in (0, 1].</summary>
        public float? DecayFactor { get; set; }

        /// <summary>With <see cref="LearningRateDecay.Step"/>: the first step at the lower rate, 0 to <see cref="Steps"/>; half-way when <see langword="null"/>.</summary>
        public int? DecayStep { get; set; }

        /// <summary>SGD momentum, in [0, 1); 0 is plain SGD. Only with <see cref="OptimizerAlgorithm.Sgd"/>.</summary>
        public float? Momentum { get; set; }

        /// <summary>Weight decay, in [0, 1000]: L2 added to the gradient (SGD, Adam), or decoupled, shrinking the weights by learning rate x decay each step (AdamW).</summary>
        public float? WeightDecay { get; set; }

        /// <summary>Dropout rate on every hidden block during training, in [0, 0.95]; 0 is none. Training only: the model and inference do not change. Both engines.</summary>
        public float? Dropout { get; set; }

        /// <summary>Decay of an exponential moving average of the weights, in [0, 1); 0 is none. The average becomes the model's weights after the last step (BatchNorm recalibrated for it). Both engines.</summary>
        public float? EmaDecay { get; set; }

        /// <summary>
        /// Members of an ensemble, 1 to 64; <see langword="null"/>: the preset's (<c>quality</c> and <c>quality-c3</c>
        /// train several). K &gt; 1 trains the network K times, from <see cref="Seed"/> + m (and the sampler's seed + m;
        /// member 0 is the single run), the members at once on as many cores as there are, and merges them into one
        /// model whose logits are their mean (see <see cref="BatchNormCharacterModel.Merge"/>): K times the training
        /// and, for the merged model, K² times one member's scoring cost. Not with <see cref="Diagnostics"/>.
        /// </summary>
        public int? EnsembleMembers { get; set; }

        /// <summary>
        /// The ensemble members' activations in turn: member m uses <c>EnsembleActivations[m % Count]</c>. Members of
        /// different activations err differently, so their mean is better than seeds alone make it (context 8: one
        /// tanh and one ReLU network merged score below three tanh ones); the merged model keeps each member's in its
        /// slice of the layers (<see cref="MlpConfig.ActivationGroups"/>). <see langword="null"/>: the preset's
        /// (<c>quality</c>: Tanh, Relu), or every member <see cref="Activation"/> when that is set.
        /// </summary>
        public IReadOnlyList<Activation>? EnsembleActivations { get; set; }

        /// <summary>Rows per minibatch, drawn with replacement, 2 to <see cref="CharacterModelDefaults.MaxBatchSize"/>.</summary>
        public int? BatchSize { get; set; }

        /// <summary>Optimizer steps, 1 to <see cref="CharacterModelDefaults.MaxSteps"/>.</summary>
        public int? Steps { get; set; }

        /// <summary>Evaluate the validation set every this many steps (and after the last); 0 (default) only after the last.</summary>
        public int ValidationInterval { get; set; }

        /// <summary>Report progress every this many steps (and after the last); <see langword="null"/>: about 100 reports per run.</summary>
        public int? ProgressInterval { get; set; }

        /// <summary>Seed of initialization and sampling; <see langword="null"/>: <see cref="CharacterModelDefaults.Seed"/>.</summary>
        public int? Seed { get; set; }

        /// <summary>
        /// Seed of the minibatch draws alone (which rows each step trains on), so that the data order can be varied or
        /// held fixed apart from the initialization; <see langword="null"/> (default): a stream derived from
        /// <see cref="Seed"/>. The seeds' reference runs draw both from one seed: <c>Seed</c> and <c>DataSeed</c> both
        /// <see cref="CharacterModelDefaults.Seed"/>.
        /// </summary>
        public int? DataSeed { get; set; }

        /// <summary>
        /// Measure the layers during training (activation, gradient and update statistics, histograms: see
        /// <see cref="TrainingDiagnosticsOptions"/>); the result is <see cref="TrainingSummary.Diagnostics"/>.
        /// <see langword="null"/> (default): nothing is measured and training costs nothing extra. Managed engine only.
        /// </summary>
        public TrainingDiagnosticsOptions? Diagnostics { get; set; }

        /// <summary>Threads for the matrix products, 1 to <see cref="CharacterModelDefaults.MaxThreads"/>; <see langword="null"/>: <see cref="CharacterModelDefaults.Threads"/>.</summary>
        public int? Threads { get; set; }

        /// <summary>After the last step, recompute every BatchNorm's running statistics over the whole training set (the second seed). Presets that calibrate (quality) do so whatever this says.</summary>
        public bool CalibrateAfterTraining { get; set; }

        /// <summary>A deep copy of these options.</summary>
        public Options Clone()
        {
            var copy = (Options)MemberwiseClone();
            copy.HiddenWidths = HiddenWidths?.ToArray();
            copy.Diagnostics = Diagnostics?.Clone();
            return copy;
        }

        /// <summary>Throws when a field is out of range or the fields contradict each other, naming the field and the allowed values.</summary>
        /// <exception cref="ArgumentOutOfRangeException">A number is out of range (the parameter name is the field's).</exception>
        /// <exception cref="ArgumentException">An unknown preset or contradicting fields.</exception>
        public void Validate()
        {
            if (string.IsNullOrWhiteSpace(LabelColumnName))
                throw new ArgumentException($"{Name(nameof(LabelColumnName))} must name a column.", nameof(LabelColumnName));
            if (string.IsNullOrWhiteSpace(FeatureColumnName))
                throw new ArgumentException($"{Name(nameof(FeatureColumnName))} must name a column.", nameof(FeatureColumnName));
            Defined<TrainingEngine>(Engine, nameof(Engine));
            var device = TrainingDevice.Parse(Device, nameof(Device));
            if (device.IsCuda && Engine == TrainingEngine.Managed)
                throw new ArgumentException($"{Name(nameof(Device))} \"{Device}\" needs {Name(nameof(Engine))} = TorchSharp (or Auto): the managed engine runs on the CPU only.", nameof(Device));
            if (Preset is null || !Presets.Names.Contains(Preset))
                throw new ArgumentException($"{Name(nameof(Preset))} must be one of {string.Join(", ", Presets.CharacterNames)} (or, for dense feature vectors, {string.Join(", ", Presets.DenseNames)}); got {(Preset is null ? "null" : $"'{Preset}'")}.", nameof(Preset));
            if (Diagnostics is not null)
            {
                Diagnostics.Validate();
                if (Engine == TrainingEngine.TorchSharp || device.IsCuda)
                    throw new ArgumentException($"{Name(nameof(Diagnostics))} read the managed engine's activations and gradients; they need {Name(nameof(Engine))} = Managed or Auto on the CPU (got {Engine} on \"{Device}\").", nameof(Diagnostics));
            }
            Range(EmbeddingWidth, 1, CharacterModelDefaults.MaxWidth, nameof(EmbeddingWidth));
            if (HiddenWidths is not null)
            {
                if (HiddenWidths.Count > CharacterModelDefaults.MaxHiddenLayers)
                    throw new ArgumentOutOfRangeException(nameof(HiddenWidths), HiddenWidths.Count, $"{Name(nameof(HiddenWidths))} must hold at most {CharacterModelDefaults.MaxHiddenLayers} layers; got {HiddenWidths.Count}.");
                for (int i = 0; i < HiddenWidths.Count; i++)
                    if (HiddenWidths[i] is < 1 or > CharacterModelDefaults.MaxWidth)
                        throw new ArgumentOutOfRangeException(nameof(HiddenWidths), HiddenWidths[i], $"{Name(nameof(HiddenWidths))}[{i}] must be between 1 and {CharacterModelDefaults.MaxWidth}; got {HiddenWidths[i]}.");
            }
            Defined(Activation, nameof(Activation)); Defined(BlockStyle, nameof(BlockStyle)); Defined(Initialization, nameof(Initialization));
            Defined(Optimizer, nameof(Optimizer)); Defined(Decay, nameof(Decay));
            RangeExclusiveLow(OutputWeightScale, 0, 100, nameof(OutputWeightScale));
            RangeExclusiveLow(LearningRate, 0, 1000, nameof(LearningRate));
            RangeExclusiveLow(DecayFactor, 0, 1, nameof(DecayFactor));
            if (Momentum is float m && !(m >= 0 && m < 1))
                throw new ArgumentOutOfRangeException(nameof(Momentum), m, $"{Name(nameof(Momentum))} must be in [0, 1); got {m}.");
            if (WeightDecay is float wd && !(wd >= 0 && wd <= 1000))
                throw new ArgumentOutOfRangeException(nameof(WeightDecay), wd, $"{Name(nameof(WeightDecay))} must be in [0, 1000]; got {wd}.");
            if (Dropout is float p && !(p >= 0 && p <= 0.95f))
                throw new ArgumentOutOfRangeException(nameof(Dropout), p, $"{Name(nameof(Dropout))} must be in [0, 0.95]; got {p}.");
            if (EmaDecay is float ema && !(ema >= 0 && ema < 1))
                throw new ArgumentOutOfRangeException(nameof(EmaDecay), ema, $"{Name(nameof(EmaDecay))} must be in [0, 1); got {ema}.");
            Range(BatchSize, 2, CharacterModelDefaults.MaxBatchSize, nameof(BatchSize));
            Range(Steps, 1, CharacterModelDefaults.MaxSteps, nameof(Steps));
            Range(EnsembleMembers, 1, Training.TrainingOptions.MaxEnsembleMembers, nameof(EnsembleMembers));
            if (EnsembleActivations is { } activations)
            {
                if (activations.Count == 0)
                    throw new ArgumentException($"{Name(nameof(EnsembleActivations))} must be null or hold at least one activation; got an empty list.", nameof(EnsembleActivations));
                for (int i = 0; i < activations.Count; i++)
                    if (!Enum.IsDefined(activations[i]))
                        throw new ArgumentOutOfRangeException(nameof(EnsembleActivations), activations[i], $"{Name(nameof(EnsembleActivations))}[{i}] is {(int)activations[i]}, not Tanh or Relu.");
            }
            Range(ValidationInterval, 0, CharacterModelDefaults.MaxSteps, nameof(ValidationInterval));
            Range(ProgressInterval, 1, CharacterModelDefaults.MaxSteps, nameof(ProgressInterval));
            Range(Threads, 1, CharacterModelDefaults.MaxThreads, nameof(Threads));
            Range(DecayStep, 0, Steps ?? CharacterModelDefaults.MaxSteps, nameof(DecayStep));
            if (Optimizer is OptimizerAlgorithm.Adam or OptimizerAlgorithm.AdamW && Momentum is > 0)
                throw new ArgumentException($"{Name(nameof(Momentum))} applies to SGD only; Adam has its own moments. Leave it unset or 0 with {Name(nameof(Optimizer))} = Adam.", nameof(Momentum));
            if (BlockStyle == Microsoft.ML.BatchNormMlp.BlockStyle.PreActivation && HiddenWidths is { Count: 0 })
                throw new ArgumentException($"{Name(nameof(HiddenWidths))} must hold at least the stem layer with {Name(nameof(BlockStyle))} = PreActivation.", nameof(HiddenWidths));
        }

        /// <summary>The engine's architecture, initialization and training options for data of this vocabulary and context.</summary>
        /// <exception cref="ArgumentException">The preset is for dense feature vectors, or the options contradict each other.</exception>
        internal (MlpConfig Config, InitOptions Init, TrainingOptions Training, ulong Seed) Resolve(int vocabularySize, int contextLength, int? contextSeed, int contextThreads)
        {
            Validate();
            var preset = Presets.Get(Preset, vocabularySize);
            if (preset.Config.IsDense)
                throw new ArgumentException($"{Name(nameof(Preset))} '{Preset}' is for dense feature vectors (a known-size vector of Single), but column '{FeatureColumnName}' holds contexts of keys; use one of {string.Join(", ", Presets.CharacterNames)}.", nameof(Preset));
            var input = preset.Config with
            {
                ContextLength = contextLength,
                VocabularySize = vocabularySize,
                OutputWidth = vocabularySize,
                EmbeddingWidth = EmbeddingWidth ?? preset.Config.EmbeddingWidth,
            };
            return Resolve(preset, input, contextSeed, contextThreads);
        }

        /// <summary>The engine's architecture, initialization and training options for dense feature vectors of <paramref name="featureCount"/> floats and <paramref name="classCount"/> classes.</summary>
        /// <exception cref="ArgumentException">An option that applies to context inputs only is set, or the options contradict each other.</exception>
        internal (MlpConfig Config, InitOptions Init, TrainingOptions Training, ulong Seed) ResolveDense(int featureCount, int classCount, int contextThreads)
        {
            Validate();
            if (EmbeddingWidth is not null)
                throw new ArgumentException($"{Name(nameof(EmbeddingWidth))} applies to contexts of keys, but column '{FeatureColumnName}' holds dense feature vectors; leave it unset.", nameof(EmbeddingWidth));
            var preset = Presets.Get(Preset, classCount);
            var input = preset.Config with { DenseInputWidth = featureCount, VocabularySize = 0, EmbeddingWidth = 0, OutputWidth = classCount };
            return Resolve(preset, input, null, contextThreads);
        }

        // The preset's architecture over the input (context or dense) with every override applied, its initialization and training options.
        private (MlpConfig Config, InitOptions Init, TrainingOptions Training, ulong Seed) Resolve(Preset preset, MlpConfig input, int? contextSeed, int contextThreads)
        {
            var c = input with
            {
                HiddenWidths = HiddenWidths?.ToArray() ?? preset.Config.HiddenWidths,
                Activation = Activation ?? preset.Config.Activation,
                BlockStyle = BlockStyle ?? preset.Config.BlockStyle,
                Residual = Residual ?? preset.Config.Residual,
                HiddenBatchNorm = BatchNorm ?? preset.Config.HiddenBatchNorm,
                OutputBatchNorm = OutputBatchNorm ?? preset.Config.OutputBatchNorm,
                HiddenBias = HiddenBias ?? preset.Config.HiddenBias,
                OutputBias = OutputBias ?? preset.Config.OutputBias,
            };
            if (c.BlockStyle == Microsoft.ML.BatchNormMlp.BlockStyle.PreActivation && c.HiddenWidths.Count == 0)
                throw new ArgumentException($"{Name(nameof(HiddenWidths))} must hold at least the stem layer with {Name(nameof(BlockStyle))} = PreActivation.", nameof(HiddenWidths));

            var init = preset.Init with
            {
                Scheme = Initialization switch
                {
                    WeightInitialization.PyTorchDefault => InitScheme.PyTorchDefault,
                    WeightInitialization.KaimingNormal => InitScheme.KaimingNormal,
                    WeightInitialization.HeUniform => InitScheme.HeUniform,
                    WeightInitialization.NaiveNormal => InitScheme.NaiveNormal,
                    _ => preset.Init.Scheme,
                },
                OutputWeightScale = OutputWeightScale ?? preset.Init.OutputWeightScale,
            };
            var t = preset.Training;
            int steps = Steps ?? t.Steps;
            if (DecayStep > steps)
                throw new ArgumentOutOfRangeException(nameof(DecayStep), DecayStep, $"{Name(nameof(DecayStep))} must be between 0 and the run's {steps} steps; got {DecayStep}.");
            double rate = LearningRate ?? t.LearningRate switch { StepDecaySchedule s => s.Initial, ConstantSchedule k => k.Rate, _ => 0.1 };
            var decay = Decay ?? (t.LearningRate is StepDecaySchedule ? LearningRateDecay.Step : LearningRateDecay.Constant);
            double factor = DecayFactor ?? (t.LearningRate as StepDecaySchedule)?.Factor ?? 0.1;
            Training.LearningRateSchedule schedule = decay == LearningRateDecay.Step
                ? new StepDecaySchedule(rate, factor, DecayStep ?? (t.LearningRate as StepDecaySchedule)?.AtStep)
                : new ConstantSchedule(rate);
            var optimizer = Optimizer ?? t.Optimizer switch { OptimizerKind.Adam => OptimizerAlgorithm.Adam, OptimizerKind.AdamW => OptimizerAlgorithm.AdamW, _ => OptimizerAlgorithm.Sgd };
            int seed = Seed ?? contextSeed ?? CharacterModelDefaults.Seed;
            var training = t with
            {
                Steps = steps,
                BatchSize = BatchSize ?? t.BatchSize,
                Sampling = t.Sampling, // the preset's: quality trains in shuffled epochs
                LearningRate = schedule,
                Optimizer = optimizer switch { OptimizerAlgorithm.Adam => OptimizerKind.Adam, OptimizerAlgorithm.AdamW => OptimizerKind.AdamW, _ => OptimizerKind.Sgd },
                Momentum = optimizer == OptimizerAlgorithm.Sgd ? Momentum ?? t.Momentum : 0,
                WeightDecay = WeightDecay ?? t.WeightDecay,
                Dropout = Dropout ?? t.Dropout,
                EmaDecay = EmaDecay ?? t.EmaDecay,
                EnsembleMembers = EnsembleMembers ?? preset.Members,
                EnsembleActivations = EnsembleActivations?.ToArray() ?? (Activation is null ? t.EnsembleActivations : null),
                ValidationEvery = ValidationInterval,
                ProgressEvery = ProgressInterval ?? Math.Clamp(steps / 100, 1, 1000),
                Threads = Threads ?? contextThreads,
                // Initialization draws from Rng(seed); the sampler gets its own stream unless DataSeed names one.
                Seed = DataSeed is int dataSeed ? (uint)dataSeed : unchecked((ulong)(uint)seed + 0x9E3779B97F4A7C15UL),
                CalibrateAfterTraining = CalibrateAfterTraining || t.CalibrateAfterTraining,
                Engine = Engine,
                Device = Device,
            };
            return (c, init, training, (uint)seed);
        }

        private static string Name(string field) => $"{nameof(BatchNormMlpTrainer)}.{nameof(Options)}.{field}";

        private static void Range(int? value, int min, int max, string field)
        {
            if (value is int v && (v < min || v > max))
                throw new ArgumentOutOfRangeException(field, v, $"{Name(field)} must be between {min} and {max}; got {v}.");
        }

        private static void RangeExclusiveLow(float? value, float low, float high, string field)
        {
            if (value is float v && !(v > low && v <= high))
                throw new ArgumentOutOfRangeException(field, v, $"{Name(field)} must be in ({low}, {high}]; got {v}.");
        }

        private static void Defined<T>(T? value, string field) where T : struct, Enum
        {
            if (value is T v && !Enum.IsDefined(v))
                throw new ArgumentOutOfRangeException(field, v, $"{Name(field)} must be one of {string.Join(", ", Enum.GetNames<T>())}; got {v}.");
        }
    }
}
