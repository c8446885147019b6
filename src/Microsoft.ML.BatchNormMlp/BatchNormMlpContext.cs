namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// The entry point of the library, like ML.NET's <c>MLContext</c>: holds the seed and thread count that
/// estimators created from it use, and exposes the catalogs.
/// </summary>
/// <example>
/// <code>
/// var context = new BatchNormMlpContext(seed: 1);
/// var split = context.Data.SplitNames(context.Data.LoadNames());
/// var featurizer = context.CharacterModels.Featurizer().Fit(split.Train);
/// var model = context.CharacterModels.Trainer("bn1", steps: 20_000).Fit(featurizer.Transform(split.Train));
/// </code>
/// </example>
public sealed class BatchNormMlpContext
{
    /// <summary>Creates a context.</summary>
    /// <param name="seed">
    /// Seed of weight initialization and minibatch sampling for trainers that do not set their own;
    /// <see langword="null"/> uses <see cref="CharacterModelDefaults.Seed"/>. Runs are deterministic for a given
    /// seed and thread count.
    /// </param>
    /// <param name="threads">Threads for training's matrix products, 1 to <see cref="CharacterModelDefaults.MaxThreads"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is out of range.</exception>
    public BatchNormMlpContext(int? seed = null, int threads = CharacterModelDefaults.Threads)
    {
        if (threads is < 1 or > CharacterModelDefaults.MaxThreads)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, $"threads must be between 1 and {CharacterModelDefaults.MaxThreads}; got {threads}.");
        Seed = seed;
        Threads = threads;
        Data = new DataCatalog();
        CharacterModels = new CharacterModelCatalog(this);
    }

    /// <summary>The seed trainers use unless their options set one; <see langword="null"/> for <see cref="CharacterModelDefaults.Seed"/>.</summary>
    public int? Seed { get; }

    /// <summary>Threads trainers use unless their options set a count.</summary>
    public int Threads { get; }

    /// <summary>Loading and splitting corpora.</summary>
    public DataCatalog Data { get; }

    /// <summary>Featurizers, trainers and model loading for character-level models.</summary>
    public CharacterModelCatalog CharacterModels { get; }
}
