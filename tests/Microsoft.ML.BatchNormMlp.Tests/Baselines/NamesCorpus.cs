using BatchNormMlp.Samples.Baselines;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests.Baselines;

/// <summary>
/// names.txt as context windows, built here until the featurization code lands: vocabulary '.' = 0 then the
/// sorted characters; per name, len + 1 rows of the previous ids (0-padded) and the next id, the last target 0.
/// Names are shuffled with a seeded <see cref="Rng"/> and split 0.8 / 0.1 / 0.1.
/// </summary>
internal static class NamesCorpus
{
    public static string Path()
    {
        // Resolved like the library's data paths: data/ in the repository, then ../shared/data/ beside it.
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(System.IO.Path.Combine(dir.FullName, "BatchNormMlp.sln"))) continue;
            foreach (string candidate in new[] { System.IO.Path.Combine(dir.FullName, "data", "names.txt"),
                                                 System.IO.Path.Combine(dir.FullName, "..", "shared", "data", "names.txt") })
                if (File.Exists(candidate)) return System.IO.Path.GetFullPath(candidate);
            throw new FileNotFoundException($"names.txt is in neither {dir.FullName}/data/ nor {dir.FullName}/../shared/data/.");
        }
        throw new FileNotFoundException($"No BatchNormMlp.sln above {TestContext.CurrentContext.TestDirectory} to resolve data/ from.");
    }

    public static (LabeledContexts Train, LabeledContexts Dev, LabeledContexts Test, int Vocabulary) Load(int contextLength, ulong seed = 42)
    {
        var words = File.ReadAllLines(Path()).Select(w => w.Trim()).Where(w => w.Length > 0).ToArray();
        var chars = words.SelectMany(w => w).Distinct().Order().ToArray();
        var stoi = new Dictionary<char, int> { ['.'] = 0 };
        for (int i = 0; i < chars.Length; i++) stoi[chars[i]] = i + 1;

        var rng = new Rng(seed);
        for (int i = words.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (words[i], words[j]) = (words[j], words[i]);
        }
        int n1 = (int)(0.8 * words.Length), n2 = (int)(0.9 * words.Length);
        return (Windows(words[..n1], stoi, contextLength), Windows(words[n1..n2], stoi, contextLength),
                Windows(words[n2..], stoi, contextLength), stoi.Count);
    }

    private static LabeledContexts Windows(string[] words, Dictionary<char, int> stoi, int contextLength)
    {
        var contexts = new List<int>();
        var targets = new List<int>();
        var context = new int[contextLength];
        foreach (string w in words)
        {
            Array.Clear(context);
            foreach (char c in w + ".")
            {
                int id = c == '.' ? 0 : stoi[c];
                contexts.AddRange(context);
                targets.Add(id);
                Array.Copy(context, 1, context, 0, contextLength - 1);
                context[^1] = id;
            }
        }
        return new LabeledContexts(contexts.ToArray(), targets.ToArray());
    }
}
