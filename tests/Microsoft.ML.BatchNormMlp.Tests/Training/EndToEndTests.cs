using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Training;

/// <summary>
/// bn1 on names.txt with the seed's hyperparameters. CI runs a short schedule (the same step decay at half-way,
/// over <see cref="DefaultSteps"/> steps) and holds it to a pinned bound. The full run is the same test with
/// <c>BNMLP_E2E_STEPS=200000</c>, held to the dev cross-entropy of 2.12 (PyTorch: train 2.061, dev 2.109):
/// <code>BNMLP_E2E_STEPS=200000 dotnet test BatchNormMlp.sln -c Release --filter "FullyQualifiedName~EndToEndTests" --logger "console;verbosity=detailed"</code>
/// Measured with the reference GEMM (NamesData's split, not Python's): train 2.0628, dev 2.1175; after
/// <see cref="MlpNetwork.Calibrate"/> train 2.0619, dev 2.1159.
/// </summary>
public class EndToEndTests
{
    private const int DefaultSteps = 3000;
    private const double DefaultBound = 2.38;   // measured 2.3214 with the reference GEMM; another summation order moves it by a few 0.01
    private const double FullBound = 2.12;

    [Test]
    public void Bn1_OnNames_ReachesThePinnedDevLoss()
    {
        int steps = int.TryParse(Environment.GetEnvironmentVariable("BNMLP_E2E_STEPS"), out int s) && s > 0 ? s : DefaultSteps;
        double bound = steps >= 200_000 ? FullBound : steps == DefaultSteps ? DefaultBound : Math.Log(27) - 0.5;
        var data = NamesData.Load();
        var preset = Presets.Get("bn1", data.VocabularySize);
        var net = new MlpNetwork(preset.Config);
        Initialization.Initialize(net, preset.Init, new Rng(2147483647));
        var options = preset.Training with { Steps = steps, ProgressEvery = Math.Max(1, steps / 10) };
        var progress = new Progress(p => TestContext.Out.WriteLine($"step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} lr {p.LearningRate} {p.StepsPerSecond:F0} steps/s"));
        var result = new Trainer(net, options).Train(data.Train, data.Dev, progress);
        double train = net.Evaluate(data.Train, 4096);
        TestContext.Out.WriteLine($"bn1 steps={steps} train={train:F4} dev={result.ValidationLoss:F4} steps/s={result.StepsPerSecond:F0} elapsed={result.Elapsed.TotalSeconds:F1}s");
        net.Calibrate(data.Train);
        TestContext.Out.WriteLine($"after calibration: train={net.Evaluate(data.Train, 4096):F4} dev={net.Evaluate(data.Dev, 4096):F4}");
        Assert.That(result.ValidationLoss, Is.LessThanOrEqualTo(bound));
    }

    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
