using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>Featurizers, trainers and loading for character-level models (<see cref="BatchNormMlpContext.CharacterModels"/>).</summary>
public sealed class CharacterModelCatalog
{
    private readonly BatchNormMlpContext _context;

    internal CharacterModelCatalog(BatchNormMlpContext context) => _context = context;

    /// <summary>The presets a trainer can start from, e.g. <c>bn1</c> (the default), <c>plain1</c>, <c>seed002</c>, <c>mlp3</c>, <c>deep50</c>, <c>deep50-res</c>.</summary>
    public IReadOnlyList<string> Presets => Training.Presets.CharacterNames;

    /// <summary>A one-line description of a preset's architecture and origin.</summary>
    /// <exception cref="ArgumentException">Unknown preset (the message lists the known ones).</exception>
    public string DescribePreset(string preset)
    {
        if (preset is null || !Training.Presets.CharacterNames.Contains(preset))
            throw new ArgumentException($"Unknown preset '{preset}'. Known presets: {string.Join(", ", Training.Presets.CharacterNames)}.", nameof(preset));
        return Training.Presets.Get(preset).Description;
    }

    /// <summary>A featurizer with the given context length and symbols.</summary>
    /// <param name="contextLength">Previous symbols per context, 1 to <see cref="CharacterModelDefaults.MaxContextLength"/>.</param>
    /// <param name="boundarySymbol">The boundary symbol (id 0), one printable character the corpus does not use.</param>
    /// <param name="unknownSymbol">When set, reserves an id for symbols outside the corpus (see <see cref="CharacterFeaturizerOptions.UnknownSymbol"/>).</param>
    /// <exception cref="ArgumentException">An argument is out of range (the message names it and the range).</exception>
    public CharacterFeaturizerEstimator Featurizer(int contextLength = CharacterModelDefaults.ContextLength,
        string boundarySymbol = CharacterModelDefaults.BoundarySymbol, string? unknownSymbol = null) =>
        Featurizer(new CharacterFeaturizerOptions { ContextLength = contextLength, BoundarySymbol = boundarySymbol, UnknownSymbol = unknownSymbol });

    /// <summary>A featurizer with the given options (copied: later changes to <paramref name="options"/> do not affect it).</summary>
    /// <exception cref="ArgumentException">An option is out of range (the message names the field and the range).</exception>
    public CharacterFeaturizerEstimator Featurizer(CharacterFeaturizerOptions options) => new(options);

    /// <summary>A trainer of a preset, optionally with another number of steps or learning rate.</summary>
    /// <param name="preset">One of <see cref="Presets"/>.</param>
    /// <param name="steps">Optimizer steps; <see langword="null"/> for the preset's (bn1: 200,000).</param>
    /// <param name="learningRate">The initial learning rate; <see langword="null"/> for the preset's.</param>
    /// <exception cref="ArgumentException">An unknown preset or an out-of-range argument (the message names it and the range).</exception>
    public CharacterModelTrainer Trainer(string preset = CharacterModelDefaults.Preset, int? steps = null, float? learningRate = null) =>
        Trainer(new CharacterModelTrainerOptions { Preset = preset, Steps = steps, LearningRate = learningRate });

    /// <summary>A trainer with the given options (copied: later changes to <paramref name="options"/> do not affect it).</summary>
    /// <exception cref="ArgumentException">An option is out of range or options contradict each other (the message names the field and the allowed values).</exception>
    public CharacterModelTrainer Trainer(CharacterModelTrainerOptions options) => new(options, _context.Seed, _context.Threads);

    /// <summary>Reads a model file (see <see cref="CharacterModel.Load"/>).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is malformed; the message names the file and the fault.</exception>
    public CharacterModel Load(string path) => CharacterModel.Load(path);
}
