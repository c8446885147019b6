using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;
using Microsoft.ML.BatchNormMlp.Training.Diagnostics;

namespace Microsoft.ML.BatchNormMlp.Tests.Diagnostics;

/// <summary>The diagnostics against straightforward recomputations on small networks.</summary>
public class TrainingDiagnosticsTests
{
    private static readonly MlpConfig Plain = new()
    {
        ContextLength = 3, VocabularySize = 7, EmbeddingWidth = 4, OutputWidth = 7, HiddenWidths = [6, 5], HiddenBatchNorm = false, HiddenBias = true,
    };

    private static Dataset Data(int rows, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new int[rows * 3];
        var y = new int[rows];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextInt(7);
        for (int r = 0; r < rows; r++) y[r] = (x[r * 3] + x[r * 3 + 2]) % 7;
        return Dataset.FromContexts(x, 3, y);
    }

    private static MlpNetwork Network(MlpConfig config, ulong seed = 5)
    {
        var net = new MlpNetwork(config);
        Initialization.Initialize(net, new InitOptions(InitScheme.NaiveNormal), new Rng(seed));   // naive: some tanh units saturate
        return net;
    }

    private static double Mean(IEnumerable<float> x) => x.Average(v => (double)v);

    private static double Std(IReadOnlyList<float> x)
    {
        double m = Mean(x);
        return Math.Sqrt(x.Sum(v => (v - m) * (v - m)) / (x.Count - 1));
    }

    [Test]
    public void LayerStatistics_EqualDirectComputations_OnAPlainTanhNetwork()
    {
        var net = Network(Plain);
        var diagnostics = new DiagnosticsRecorder(new TrainingDiagnosticsOptions { Interval = 1, HistogramBins = 10 });
        // lr 0: the weights after the step are the ones backward used, so every gradient can be recomputed from them.
        var trainer = new Trainer(net, new TrainingOptions { Steps = 3, BatchSize = 8, LearningRate = new ConstantSchedule(0) }) { Observer = diagnostics };
        trainer.Train(Data(64, 1));

        Assert.That(diagnostics.Losses, Has.Count.EqualTo(3));
        Assert.That(diagnostics.Snapshots.Select(s => s.Step), Is.EqualTo(new[] { 0, 1, 2 }));
        var s = diagnostics.Latest!;
        var ws = net.GetWorkspace(8);
        int b = 8;
        var y0 = ws.Activated[0].Take(b * 6).ToArray();   // tanh outputs [B, 6]
        var y1 = ws.Activated[1].Take(b * 5).ToArray();   // [B, 5]
        Assert.That(s.Layers[0].ActivationMean, Is.EqualTo(Mean(y0)).Within(1e-12));
        Assert.That(s.Layers[0].ActivationStd, Is.EqualTo(Std(y0)).Within(1e-12));
        Assert.That(s.Layers[1].Saturation, Is.EqualTo(y1.Count(v => Math.Abs(v) > 0.97) / (double)y1.Length));
        Assert.That(s.Layers[0].Saturation, Is.GreaterThan(0), "naive N(0,1) weights saturate some units");

        // ∂L/∂h1 = dLogits · W_out [B, K]·[K, 5]; ∂L/∂h0 = (∂L/∂h1 ⊙ (1 - h1²)) · W1.
        var dLogits = ws.DLogits;
        var wOut = net.Output.Weight.Data;   // [7, 5]
        var w1 = net.Hidden[1].Weight.Data;  // [5, 6]
        var dh1 = new float[b * 5];
        for (int r = 0; r < b; r++)
            for (int j = 0; j < 5; j++)
            {
                float sum = 0;
                for (int k = 0; k < 7; k++) sum += dLogits[r * 7 + k] * wOut[k * 5 + j];
                dh1[r * 5 + j] = sum;
            }
        var dh0 = new float[b * 6];
        for (int r = 0; r < b; r++)
            for (int i = 0; i < 6; i++)
            {
                float sum = 0;
                for (int j = 0; j < 5; j++) sum += dh1[r * 5 + j] * (1 - y1[r * 5 + j] * y1[r * 5 + j]) * w1[j * 6 + i];
                dh0[r * 6 + i] = sum;
            }
        Assert.That(s.Layers[1].GradientMean, Is.EqualTo(Mean(dh1)).Within(1e-6 * (1 + Std(dh1))));
        Assert.That(s.Layers[1].GradientStd, Is.EqualTo(Std(dh1)).Within(1e-4 * Std(dh1)));
        Assert.That(s.Layers[0].GradientStd, Is.EqualTo(Std(dh0)).Within(1e-4 * Std(dh0)));

        // The first seed's gradient:weight ratio and the third seed's update:data ratio, per parameter.
        var w0 = net.Hidden[0].Weight;
        Assert.That(s.Layers[0].WeightGradientStd, Is.EqualTo(Std(w0.Grad)).Within(1e-12));
        Assert.That(s.Layers[0].GradientToWeight, Is.EqualTo(Std(w0.Grad) / (Std(w0.Data) + 1e-8)).Within(1e-12));
        Assert.That(s.UpdateRatios.Select(u => u.Parameter), Is.EqualTo(net.Parameters.Select(p => p.Name)));
        Assert.That(s.UpdateRatios.Single(u => u.Parameter == "hidden.0.linear.weight").Dimensions, Is.EqualTo(2));
        Assert.That(s.UpdateRatios.All(u => double.IsNegativeInfinity(u.Log10)), Is.True, "lr 0 means no update: log10(0)");

        // Histograms as torch.histogram(density=True) for gradients: 10 bins over the tensor's range, integrating to 1.
        var h = s.Histograms![1];
        Assert.That(h.WeightGradient!.Edges[0], Is.EqualTo(net.Hidden[1].Weight.Grad.Min()).Within(1e-7));
        Assert.That(h.WeightGradient.Edges[^1], Is.EqualTo(net.Hidden[1].Weight.Grad.Max()).Within(1e-7));
        double width = h.WeightGradient.Edges[1] - h.WeightGradient.Edges[0];
        Assert.That(h.WeightGradient.Heights.Sum() * width, Is.EqualTo(1).Within(1e-9));
        Assert.That(h.OutputGradient!.Heights.Sum() * (h.OutputGradient.Edges[1] - h.OutputGradient.Edges[0]), Is.EqualTo(1).Within(1e-9));
        Assert.That(h.OutputGradient.Edges[0], Is.EqualTo(dh1.Min()).Within(1e-6));
        Assert.That(h.Activation!.Heights.Sum(), Is.EqualTo(b * 5), "activation histograms hold counts");
    }

    [Test]
    public void UpdateRatio_IsLog10OfLrTimesGradStdOverDataStd()
    {
        var net = Network(Plain);
        var diagnostics = new DiagnosticsRecorder(new TrainingDiagnosticsOptions { Interval = 2, Histograms = false });
        new Trainer(net, new TrainingOptions { Steps = 3, BatchSize = 8, LearningRate = new ConstantSchedule(0.05) }) { Observer = diagnostics }.Train(Data(64, 1));
        Assert.That(diagnostics.Snapshots.Select(x => x.Step), Is.EqualTo(new[] { 0, 2 }));
        Assert.That(diagnostics.Latest!.Histograms, Is.Null);
        foreach (var (p, u) in net.Parameters.Zip(diagnostics.Latest.UpdateRatios))
        {
            double expected = Math.Log10(0.05f * Std(p.Grad) / (Std(p.Data) + 1e-5));   // after the update, as the seed computes it
            Assert.That(u.Log10, Is.EqualTo(expected).Within(1e-9), p.Name);
        }
    }

    [Test]
    public void ForwardStatistics_OfABatchNormResidualNetwork_MatchTheSeedsPrintVariance()
    {
        var config = Plain with { HiddenWidths = [5, 5, 5], HiddenBatchNorm = true, Residual = true };
        var net = Network(config);
        var data = Data(40, 3);
        net.Forward(data.Rows(0, 40), 40, training: true);
        var (layers, histograms) = DiagnosticsRecorder.Measure(net, histogramBins: 12);
        var ws = net.GetWorkspace(40);
        for (int i = 0; i < 3; i++)
        {
            // print_variance: np.mean(np.var(h, axis=0)) with NumPy's n denominator.
            double expected = 0;
            for (int j = 0; j < 5; j++)
            {
                var column = Enumerable.Range(0, 40).Select(r => (double)ws.Stream[i][r * 5 + j]).ToArray();
                double m = column.Average();
                expected += column.Sum(v => (v - m) * (v - m)) / 40;
            }
            Assert.That(layers[i].OutputVariance, Is.EqualTo(expected / 5).Within(1e-9), $"layer {i}");
            Assert.That(double.IsNaN(layers[i].GradientStd), Is.True, "a forward-only look has no gradients");
            Assert.That(histograms![i].Output.Heights.Sum(), Is.EqualTo(200), "every output value is binned");
            Assert.That(histograms[i].Activation!.Edges, Has.Length.EqualTo(13));
        }
        Assert.That(layers[2].OutputVariance, Is.GreaterThan(layers[0].OutputVariance), "the residual stream accumulates");
    }

    [Test]
    public void PreActivationStem_HasNoActivationStatistics()
    {
        var config = new MlpConfig { DenseInputWidth = 4, VocabularySize = 0, EmbeddingWidth = 0, OutputWidth = 3, HiddenWidths = [6, 6], Activation = Activation.Relu,
            BlockStyle = BlockStyle.PreActivation, Residual = true, HiddenBias = true, HiddenBatchNorm = true };
        var net = new MlpNetwork(config);
        Initialization.Initialize(net, new InitOptions(InitScheme.HeUniform), new Rng(2));
        var x = Enumerable.Range(0, 40).Select(i => (float)Math.Sin(i)).ToArray();
        net.Forward(NetworkInput.Dense(x), 10, training: true);
        var (layers, _) = DiagnosticsRecorder.Measure(net);
        Assert.That(double.IsNaN(layers[0].ActivationMean), Is.True);
        Assert.That(layers[1].ActivationMean, Is.GreaterThanOrEqualTo(0), "ReLU outputs");
    }

    [Test]
    public void Measure_RefusesAForwardOnlyPass()
    {
        var net = Network(Plain);
        net.Forward(Data(4, 1).Rows(0, 4), 4, training: false);
        var e = Assert.Throws<InvalidOperationException>(() => DiagnosticsRecorder.Measure(net));
        Assert.That(e!.Message, Does.Contain("training mode"));
    }

    [Test]
    public void Options_AreValidated()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new DiagnosticsRecorder(new TrainingDiagnosticsOptions { Interval = 0 }));
        Assert.That(e!.Message, Does.StartWith("TrainingDiagnosticsOptions.Interval must be between 1 and 100000000 steps; got 0."));
    }

    [Test]
    public void ObservingDoesNotChangeTheTrajectory()
    {
        float[] Train(bool observe)
        {
            var net = Network(Plain with { HiddenBatchNorm = true });
            var trainer = new Trainer(net, new TrainingOptions { Steps = 25, BatchSize = 8, Momentum = 0.9f });
            if (observe) trainer.Observer = new DiagnosticsRecorder(new TrainingDiagnosticsOptions { Interval = 3 });
            trainer.Train(Data(64, 1));
            return net.Parameters.SelectMany(p => p.Data).ToArray();
        }
        Assert.That(Train(observe: true), Is.EqualTo(Train(observe: false)));
    }

    [Test]
    public void TrainingSteps_WithoutAnObserver_AllocateNothing()
    {
        var config = Plain with { HiddenWidths = [16, 16], HiddenBatchNorm = true, Residual = true };
        var net = Network(config);
        var data = Data(300, 1);
        var options = new TrainingOptions { Steps = 20, BatchSize = 16 };
        new Trainer(net, options) { Observer = new DiagnosticsRecorder() }.Train(data);   // warm-up, including the observed path
        // Past tiered compilation too: methods are promoted after ~30 calls and the new code lands ~100 ms later,
        // which can allocate on this thread; the long run below must not be the one that sees it.
        new Trainer(net, options with { Steps = 2000 }).Train(data);
        Thread.Sleep(200);
        var shortRun = new Trainer(net, options);
        var longRun = new Trainer(net, options with { Steps = 1020 });
        long a = GC.GetAllocatedBytesForCurrentThread();
        shortRun.Train(data);
        long b = GC.GetAllocatedBytesForCurrentThread();
        longRun.Train(data);
        long c = GC.GetAllocatedBytesForCurrentThread();
        Assert.That((c - b) - (b - a), Is.EqualTo(0), $"1000 extra unobserved steps allocated {(c - b) - (b - a)} bytes");
    }
}
