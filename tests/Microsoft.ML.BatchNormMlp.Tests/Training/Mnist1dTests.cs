using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Training;

/// <summary>The fourth seed's residual networks on the real MNIST-1D data (../shared/data/mnist1d).</summary>
public class Mnist1dTests
{
    private static Dataset Load(string split)
    {
        string names = NamesData.FindNamesFile();
        string path = Path.Combine(Path.GetDirectoryName(names)!, "mnist1d", $"mnist1d_{split}.csv");
        var lines = File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0).ToArray();
        var x = new float[lines.Length * 40];
        var y = new int[lines.Length];
        for (int r = 0; r < lines.Length; r++)
        {
            var cells = lines[r].Split(',');
            y[r] = int.Parse(cells[0], System.Globalization.CultureInfo.InvariantCulture);
            for (int j = 0; j < 40; j++) x[r * 40 + j] = float.Parse(cells[j + 1], System.Globalization.CultureInfo.InvariantCulture);
        }
        return Dataset.FromDense(x, 40, y);
    }

    private static double Variance(float[] h, int rows, int width)
    {
        // The seed's print_variance: the variance of each neuron over the batch, averaged over neurons.
        double total = 0;
        for (int j = 0; j < width; j++)
        {
            double m = 0, s = 0;
            for (int r = 0; r < rows; r++) m += h[r * width + j];
            m /= rows;
            for (int r = 0; r < rows; r++) s += Math.Pow(h[r * width + j] - m, 2);
            total += s / rows;
        }
        return total / width;
    }

    [Test]
    public void ResidualStreamVariance_DoublesPerBlockWithoutBatchNormButGrowsSlowlyWithIt()
    {
        var data = Load("train");
        double Growth(string preset)
        {
            var p = Presets.Get(preset);
            var net = new MlpNetwork(p.Config);
            Initialization.Initialize(net, p.Init, new Rng(1));
            net.Forward(data.Rows(0, 200), 200, training: true);
            var ws = net.GetWorkspace(200);
            double first = Variance(ws.Stream[0], 200, 100), last = Variance(ws.Stream[5], 200, 100);
            TestContext.Out.WriteLine($"{preset}: stem variance {first:F3}, after five blocks {last:F3}");
            return last / first;
        }
        Assert.That(Growth("mnist1d-res"), Is.GreaterThan(8), "without BatchNorm each block roughly doubles the variance (seed: 1.9 -> 27.5)");
        Assert.That(Growth("mnist1d-res-bn"), Is.LessThan(5), "with BatchNorm in the branch each block adds about one unit of variance (measured 1.93 -> 5.49; no BN: 1.93 -> 28.8)");
    }

    [Test]
    public void Mnist1dResBn_LearnsWithTheSeedsOptimizer()
    {
        var train = Load("train");
        var test = Load("test");
        var p = Presets.Get("mnist1d-res-bn");
        var net = new MlpNetwork(p.Config);
        Initialization.Initialize(net, p.Init, new Rng(1));
        double before = net.Evaluate(test);
        var result = new Trainer(net, p.Training with { Steps = 60 }).Train(train, test);   // 3 epochs of 20 batches
        TestContext.Out.WriteLine($"mnist1d-res-bn: test loss {before:F4} -> {result.ValidationLoss:F4} in 60 steps, {result.StepsPerSecond:F1} steps/s");
        Assert.That(result.ValidationLoss, Is.LessThan(1.5));   // measured 1.25 (from 17.0 with untrained running statistics)
    }
}
