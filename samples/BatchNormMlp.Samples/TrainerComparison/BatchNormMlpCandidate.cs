using Microsoft.ML;

namespace BatchNormMlp.Samples.TrainerComparison;

/// <summary>A BatchNormMlp preset through the public trainer: it reads the featurizer's Context and Label directly.</summary>
internal static class BatchNormMlpCandidate
{
    public static Candidate Create(MLContext ml, PresetEntry entry, int? steps, int threads) => new(entry.Label,
        steps is int s ? $"preset {entry.Preset}, {s} steps" : $"preset {entry.Preset}",
        (train, _) => FittedCandidate.Of(ml.MulticlassClassification.Trainers.BatchNormMlp(new BatchNormMlpTrainer.Options
        {
            Preset = entry.Preset, Steps = steps, Threads = threads,
        }).Fit(train), model => Size((BatchNormMlpTransformer)model)));

    private static ModelSize Size(BatchNormMlpTransformer model)
    {
        string file = Path.Combine(Path.GetTempPath(), $"bnmlp-compare-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(file);
            return new ModelSize(model.Model.ParameterCount, new FileInfo(file).Length);
        }
        finally { File.Delete(file); }
    }
}
