namespace Microsoft.ML.BatchNormMlp.Benchmarks;

/// <summary>
/// Issue 4's folding figures on a trained bn1: <c>dotnet run -c Release --project
/// benchmarks/Microsoft.ML.BatchNormMlp.Benchmarks -- folding [--steps N] [--model M] [--save M] [--data PATH]</c>.
/// Over every context of names.txt: the largest |logit difference| between the folded model and the unfolded one in
/// evaluation mode; and the train, dev and test losses of both.
/// </summary>
internal static class FoldingFigures
{
    public static int Run(string[] args)
    {
        var (model, split, names, featurize) = QuickArguments.Bn1(args, defaultSteps: 20_000);
        if (QuickArguments.Get(args, "--save") is { } save)
        {
            model.Save(save);
            Console.WriteLine($"saved the unfolded model to {save}");
        }
        var folded = model.Fold();
        var all = featurize(names);
        int k = all.Vocabulary.Count;
        var a = new float[all.Count * k];
        var b = new float[all.Count * k];
        var contexts = Enumerable.Range(0, all.Count).SelectMany(all.GetContext).ToArray();
        model.ComputeLogits(contexts, all.Count, a);
        folded.ComputeLogits(contexts, all.Count, b);
        double worst = 0, sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs((double)a[i] - b[i]);
            worst = Math.Max(worst, d);
            sum += d;
        }
        Console.WriteLine($"contexts of names.txt: {all.Count} ({names.Count} names)");
        Console.WriteLine($"max |logit difference| folded vs unfolded: {worst:E3} (mean {sum / a.Length:E3})");
        foreach (var (label, part) in new[] { ("train", split.Train), ("dev", split.Dev), ("test", split.Test) })
        {
            var data = featurize(part);
            var u = model.Evaluate(data);
            var f = folded.Evaluate(data);
            Console.WriteLine($"{label,-5} loss unfolded {u.Loss:F5}  folded {f.Loss:F5}  |diff| {Math.Abs(u.Loss - f.Loss):E2}  top-1 {u.Top1Accuracy:P2} / {f.Top1Accuracy:P2}");
        }
        return 0;
    }
}
