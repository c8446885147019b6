using System.Text.Json;
using Microsoft.ML.BatchNormMlp.Featurization;

namespace Microsoft.ML.BatchNormMlp.Tests.Featurization;

/// <summary>
/// PythonRandom against CPython itself: Fixtures/python_random.json was written by make_python_random.py with
/// /usr/bin/python3 (CI has no Python, so the answers are committed).
/// </summary>
public class PythonRandomTests
{
    private static readonly Lazy<JsonElement> Fixture = new(() =>
        JsonDocument.Parse(File.ReadAllText(TestData.Fixture("python_random.json"))).RootElement);

    private static IEnumerable<JsonElement> Seeds() => Fixture.Value.GetProperty("seeds").EnumerateArray();

    private static long[] Longs(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt64())];

    [Test]
    public void GetRandBits32_MatchesCPython_ForEverySeed()
    {
        foreach (JsonElement seed in Seeds())
        {
            var random = new PythonRandom(seed.GetProperty("seed").GetInt64());
            long[] ours = [.. Enumerable.Range(0, 8).Select(_ => (long)random.GetRandBits(32))];
            Assert.That(ours, Is.EqualTo(Longs(seed.GetProperty("getrandbits32"))), $"seed {seed.GetProperty("seed")}");
        }
    }

    [Test]
    public void RandBelow_MatchesCPython()
    {
        int[] bounds = [1, 2, 3, 5, 7, 100, 1000, 32033, int.MaxValue];
        foreach (JsonElement seed in Seeds())
        {
            var random = new PythonRandom(seed.GetProperty("seed").GetInt64());
            long[] ours = [.. bounds.Select(n => (long)random.RandBelow(n))];
            Assert.That(ours, Is.EqualTo(Longs(seed.GetProperty("randbelow"))), $"seed {seed.GetProperty("seed")}");
        }
    }

    [Test]
    public void Shuffle_MatchesCPython()
    {
        foreach (JsonElement seed in Seeds())
        {
            long s = seed.GetProperty("seed").GetInt64();
            int[] small = [.. Enumerable.Range(0, 50)];
            new PythonRandom(s).Shuffle(small);
            Assert.That(small.Select(v => (long)v), Is.EqualTo(Longs(seed.GetProperty("shuffle50"))), $"seed {s}");

            int[] big = [.. Enumerable.Range(0, 1000)];
            new PythonRandom(s).Shuffle(big);
            Assert.That(big.Take(10).Select(v => (long)v), Is.EqualTo(Longs(seed.GetProperty("shuffle1000_first"))), $"seed {s}");
            Assert.That(big.TakeLast(10).Select(v => (long)v), Is.EqualTo(Longs(seed.GetProperty("shuffle1000_last"))), $"seed {s}");
        }
    }

    [Test]
    public void Fixture_CoversZeroNegativeAndMultiWordSeeds()
    {
        // init_by_array's key: [0] for 0, |seed| for negatives, two 32-bit words above 2^32.
        Assert.That(Seeds().Select(s => s.GetProperty("seed").GetInt64()), Is.SupersetOf(new[] { 0L, 42L, -7L, (1L << 32) + 5 }));
    }
}
