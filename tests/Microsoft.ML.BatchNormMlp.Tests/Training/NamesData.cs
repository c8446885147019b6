using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests.Training;

/// <summary>
/// names.txt as torch_ref.py featurizes it (vocabulary '.' + sorted letters, context 3, '.' padding and terminator),
/// split 80/10/10 after a shuffle. The shuffle here is <see cref="Rng"/>'s, not Python's random.seed(42) (the
/// featurization work provides the bit-compatible one); the split sizes are the same.
/// </summary>
internal sealed class NamesData
{
    public const int Context = 3;

    private NamesData(Dataset train, Dataset dev, int vocabularySize) { Train = train; Dev = dev; VocabularySize = vocabularySize; }

    public Dataset Train { get; }

    public Dataset Dev { get; }

    public int VocabularySize { get; }

    /// <summary>../shared/data/names.txt beside the repository root (the directory holding BatchNormMlp.sln).</summary>
    public static string FindNamesFile()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "BatchNormMlp.sln"))) dir = dir.Parent;
        if (dir is null) throw new FileNotFoundException($"No BatchNormMlp.sln above {TestContext.CurrentContext.TestDirectory}; cannot locate ../shared/data/names.txt.");
        string path = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data", "names.txt"));
        if (!File.Exists(path)) throw new FileNotFoundException($"The end-to-end test needs {path} (the shared data beside the repository).", path);
        return path;
    }

    public static NamesData Load()
    {
        var words = File.ReadAllLines(FindNamesFile()).Where(w => w.Length > 0).ToArray();
        var chars = words.SelectMany(w => w).Distinct().Order().ToArray();
        var stoi = new Dictionary<char, int>();
        for (int i = 0; i < chars.Length; i++) stoi[chars[i]] = i + 1;
        var rng = new Rng(42);
        for (int i = words.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (words[i], words[j]) = (words[j], words[i]);
        }
        int n1 = (int)(0.8 * words.Length), n2 = (int)(0.9 * words.Length);
        return new NamesData(Build(words[..n1], stoi), Build(words[n1..n2], stoi), chars.Length + 1);
    }

    private static Dataset Build(string[] words, Dictionary<char, int> stoi)
    {
        var x = new List<int>();
        var y = new List<int>();
        foreach (var w in words)
        {
            int a = 0, b = 0, c = 0;
            foreach (char ch in w + ".")
            {
                int ix = ch == '.' ? 0 : stoi[ch];
                x.Add(a); x.Add(b); x.Add(c); y.Add(ix);
                (a, b, c) = (b, c, ix);
            }
        }
        return Dataset.FromContexts(x.ToArray(), Context, y.ToArray());
    }
}
