namespace Microsoft.ML.BatchNormMlp.MlNet;

/// <summary>Why our transformers do not go into ML.NET's model zip, said once.</summary>
internal static class MlNetPersistence
{
    public static NotSupportedException NotSupported(string transformer) => new(
        $"{transformer} cannot be written into an ML.NET model zip: ML.NET's ModelSaveContext and ModelLoadContext are internal to ML.NET "
        + "(dotnet/machinelearning issue 4911), so no transformer from another package can be saved or loaded by mlContext.Model.Save/Load. "
        + "Save it with its own Save(path) and Load(path), or export the trained model with BatchNormMlpTransformer.ExportOnnx and score it "
        + "with mlContext.Transforms.ApplyOnnxModel in a pipeline that mlContext.Model.Save can write (see the README).");
}
