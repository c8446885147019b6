using System.Text.Json;
using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Tests.Model;

/// <summary>One PyTorch fixture written by tests/fixtures/make_fixtures.py (see that script for the contents).</summary>
internal sealed class GoldenFixture
{
    private readonly JsonElement _root;

    private GoldenFixture(JsonElement root) => _root = root;

    public static GoldenFixture Load(string name)
    {
        string path = Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", name + ".json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return new GoldenFixture(doc.RootElement.Clone());
    }

    public static float[] Decode(string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        var floats = new float[bytes.Length / 4];
        for (int i = 0; i < floats.Length; i++) floats[i] = BitConverter.ToSingle(bytes, 4 * i); // little-endian machine
        return floats;
    }

    public JsonElement Root => _root;

    public MlpConfig Config
    {
        get
        {
            var c = _root.GetProperty("config");
            return new MlpConfig
            {
                ContextLength = c.GetProperty("contextLength").GetInt32(),
                VocabularySize = c.GetProperty("vocabularySize").GetInt32(),
                EmbeddingWidth = c.GetProperty("embeddingWidth").GetInt32(),
                DenseInputWidth = c.GetProperty("denseInputWidth").GetInt32(),
                OutputWidth = c.GetProperty("outputWidth").GetInt32(),
                HiddenWidths = c.GetProperty("hiddenWidths").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                Activation = c.GetProperty("activation").GetString() == "tanh" ? Activation.Tanh : Activation.Relu,
                BlockStyle = c.GetProperty("blockStyle").GetString() == "pre" ? BlockStyle.PreActivation : BlockStyle.PostActivation,
                Residual = c.GetProperty("residual").GetBoolean(),
                HiddenBias = c.GetProperty("hiddenBias").GetBoolean(),
                HiddenBatchNorm = c.GetProperty("hiddenBatchNorm").GetBoolean(),
                OutputBias = c.GetProperty("outputBias").GetBoolean(),
                OutputBatchNorm = c.GetProperty("outputBatchNorm").GetBoolean(),
            };
        }
    }

    public float LearningRate => _root.GetProperty("optimizer").GetProperty("lr").GetSingle();

    public float Momentum => _root.GetProperty("optimizer").GetProperty("momentum").GetSingle();

    public float WeightDecay => _root.GetProperty("optimizer").GetProperty("weightDecay").GetSingle();

    public double Loss => _root.GetProperty("loss").GetDouble();

    public bool Has(string key) => _root.GetProperty("tensors").TryGetProperty(key, out _);

    public float[] Tensor(string key) => Decode(_root.GetProperty("tensors").GetProperty(key).GetProperty("data").GetString()!);

    public int[] Shape(string key) => _root.GetProperty("tensors").GetProperty(key).GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    /// <summary>The tensors under a prefix ("initial/", "after/") as a state dictionary.</summary>
    public List<TensorValue> State(string prefix) =>
        _root.GetProperty("tensors").EnumerateObject()
            .Where(p => p.Name.StartsWith(prefix, StringComparison.Ordinal))
            .Select(p => new TensorValue(p.Name[prefix.Length..], Shape(p.Name), Tensor(p.Name)))
            .ToList();

    public int BatchCount => _root.GetProperty("batches").GetArrayLength();

    public FixtureBatch Batch(int index) => ReadBatch(_root.GetProperty("batches")[index]);

    public FixtureBatch EvalBatch => ReadBatch(_root.GetProperty("evalBatch"));

    private static FixtureBatch ReadBatch(JsonElement b)
    {
        var labels = b.GetProperty("y").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var x = b.GetProperty("x");
        return x.ValueKind == JsonValueKind.String
            ? new FixtureBatch(null, Decode(x.GetString()!), labels)
            : new FixtureBatch(x.EnumerateArray().Select(e => e.GetInt32()).ToArray(), null, labels);
    }
}

/// <summary>A fixture's batch: ids or dense features, and labels.</summary>
internal sealed record FixtureBatch(int[]? Ids, float[]? Features, int[] Labels)
{
    public int Rows => Labels.Length;

    public NetworkInput Input => Features is null ? NetworkInput.Ids(Ids) : NetworkInput.Dense(Features);
}
