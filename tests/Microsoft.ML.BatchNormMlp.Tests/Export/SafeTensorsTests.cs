using System.Buffers.Binary;
using System.Text;
using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests.Export;

public class SafeTensorsTests
{
    private string _dir = null!;

    [SetUp] public void SetUp() => _dir = ExportTestModels.TempDirectory();
    [TearDown] public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static Dictionary<string, NamedTensor> Sample() => new(StringComparer.Ordinal)
    {
        ["b.weight"] = new([2, 3], [1.5f, -0f, float.NaN, BitConverter.Int32BitsToSingle(0x7fc12345), float.Epsilon, float.NegativeInfinity]),
        ["a.bias"] = new([3], [1e-30f, 3.25f, -7f]),
        ["empty"] = new([0, 4], []),
    };

    [Test]
    public void RoundTrip_IsBitIdentical_IncludingNaNPayloadsSignedZeroAndSubnormals()
    {
        string path = Path.Combine(_dir, "m.safetensors");
        var tensors = Sample();
        SafeTensors.Write(path, tensors, new Dictionary<string, string> { ["k"] = "v \"quoted\" é" });

        var read = SafeTensors.Read(path);

        Assert.That(read.Metadata, Is.EquivalentTo(new Dictionary<string, string> { ["k"] = "v \"quoted\" é" }));
        Assert.That(read.Tensors.Keys, Is.EquivalentTo(tensors.Keys));
        foreach (var (name, t) in tensors)
        {
            Assert.That(read.Tensors[name].Shape, Is.EqualTo(t.Shape), name);
            Assert.That(read.Tensors[name].Data.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(t.Data.Select(BitConverter.SingleToInt32Bits)), name);
        }
    }

    [Test]
    public void Write_IsDeterministic_SortedByName_AndDataIsAligned()
    {
        string first = Path.Combine(_dir, "1.safetensors"), second = Path.Combine(_dir, "2.safetensors");
        var forward = Sample();
        var reversed = forward.Reverse().ToDictionary(p => p.Key, p => p.Value);
        SafeTensors.Write(first, forward);
        SafeTensors.Write(second, reversed);

        var bytes = File.ReadAllBytes(first);
        Assert.That(bytes, Is.EqualTo(File.ReadAllBytes(second)));
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.That(headerLength % 8, Is.EqualTo(0));
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.That(header.IndexOf("\"a.bias\""), Is.LessThan(header.IndexOf("\"b.weight\"")));
        Assert.That(header, Does.Contain("\"a.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}"));
    }

    [Test]
    public void Write_ReplacesAnExistingFile_AndLeavesNoTemporaryFiles()
    {
        string path = Path.Combine(_dir, "m.safetensors");
        File.WriteAllText(path, "old contents");
        SafeTensors.Write(path, Sample());
        Assert.That(SafeTensors.Read(path).Tensors, Has.Count.EqualTo(3));
        Assert.That(Directory.GetFiles(_dir), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void Write_RejectsATensorWhoseDataDisagreesWithItsShape()
    {
        var ex = Assert.Throws<ArgumentException>(() => SafeTensors.Write(Path.Combine(_dir, "m.safetensors"), new Dictionary<string, NamedTensor> { ["w"] = new([2, 2], [1, 2, 3]) }));
        Assert.That(ex!.Message, Does.Contain("'w'").And.Contain("holds 3 floats"));
        Assert.That(Directory.GetFiles(_dir), Is.Empty);
    }

    private string WriteRaw(string header, int dataBytes, ulong? declaredLength = null)
    {
        string path = Path.Combine(_dir, $"bad-{Guid.NewGuid():N}.safetensors");
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)h.Length);
        h.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static readonly object[] MalformedHeaders =
    [
        new object[] { "not json", 0, "the header is not valid JSON" },
        new object[] { "[1,2]", 0, "the header is a JSON Array, not an object" },
        new object[] { "{\"w\":5}", 0, "tensor 'w' is described by a JSON Number, not an object" },
        new object[] { "{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "tensor 'w' has dtype 'F16'; only F32 is supported" },
        new object[] { "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 12, "tensor 'w' has shape [2, 2] (4 floats, 16 bytes) but data_offsets [0, 12] span 12 bytes" },
        new object[] { "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "tensor 'w' has data_offsets [0, 16] beyond the 8-byte data section" },
        new object[] { "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "tensor 'v' has data_offsets [4, 12] overlapping the previous tensor, which ends at 8" },
        new object[] { "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "tensor 'w' has data_offsets [4, 8] leaving a gap after byte 0" },
        new object[] { "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12, "the tensors cover 4 bytes but the data section holds 12" },
        new object[] { "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "the header names 'w' twice" },
        new object[] { "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "tensor 'w' has dimension 0 = -1, not a non-negative 32-bit integer" },
        new object[] { "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "tensor 'w' has dimension 0 = 1.5" },
        new object[] { "{\"w\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,4]}}", 4, "tensor 'w' has shape [65536, 65536...] with more than 2147483647 elements" },
        new object[] { "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "tensor 'w' has data_offsets [8,4], not 0 <= begin <= end" },
        new object[] { "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "tensor 'w' has data_offsets that are not a [begin, end] pair" },
        new object[] { "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor 'w' lacks one of 'dtype', 'shape' and 'data_offsets'" },
        new object[] { "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", 4, "tensor 'w' has an unexpected, repeated or mistyped field 'extra'" },
        new object[] { "{\"__metadata__\":{\"format\":3}}", 0, "metadata entry 'format' is a JSON Number, not a string" },
        new object[] { "{\"__metadata__\":[]}", 0, "'__metadata__' is a JSON Array, not an object of strings" },
    ];

    [TestCaseSource(nameof(MalformedHeaders))]
    public void Read_RejectsMalformedHeader_WithAMessageNamingFileAndTensor(string header, int dataBytes, string expected)
    {
        string path = WriteRaw(header, dataBytes);
        var ex = Assert.Throws<ModelFormatException>(() => SafeTensors.Read(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain(expected));
    }

    [Test]
    public void Read_RejectsAHeaderThatIsNotUtf8()
    {
        string path = WriteRaw("{\"__metadata__\":{\"k\":\"\u00e9\"}}", 0);
        var bytes = File.ReadAllBytes(path);
        bytes[^5] = 0xAE; // replaces the lead byte of "é": two lone continuation bytes
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<ModelFormatException>(() => SafeTensors.Read(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("the header is not valid UTF-8"));
    }

    [Test]
    public void Read_RejectsAFileShorterThanTheLengthField()
    {
        string path = Path.Combine(_dir, "short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        var ex = Assert.Throws<ModelFormatException>(() => SafeTensors.Read(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("holds 3 bytes, fewer than the 8-byte header length"));
    }

    [TestCase(1000UL)]
    [TestCase(ulong.MaxValue)]
    [TestCase(0UL)]
    public void Read_RejectsAHeaderLengthThatDoesNotFitTheFile_BeforeAllocating(ulong declared)
    {
        string path = WriteRaw("{}", 0, declared);
        var ex = Assert.Throws<ModelFormatException>(() => SafeTensors.Read(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain($"the header length {declared} does not fit in the 2 bytes"));
    }

    [Test]
    public void Read_RejectsATruncatedFile_NamingTheTensorThatRunsPastTheEnd()
    {
        string path = Path.Combine(_dir, "m.safetensors");
        SafeTensors.Write(path, Sample());
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        var ex = Assert.Throws<ModelFormatException>(() => SafeTensors.Read(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("tensor 'b.weight' has data_offsets [12, 36] beyond the 32-byte data section"));
    }

    [Test]
    public void Read_EveryTruncationAndRandomCorruption_FailsOnlyWithModelFormatException()
    {
        string path = Path.Combine(_dir, "m.safetensors");
        SafeTensors.Write(path, Sample(), new Dictionary<string, string> { ["format"] = "bnmlp/1" });
        var original = File.ReadAllBytes(path);
        string probe = Path.Combine(_dir, "probe.safetensors");

        for (int length = 0; length < original.Length; length++)
        {
            File.WriteAllBytes(probe, original[..length]);
            Assert.Throws<ModelFormatException>(() => SafeTensors.Read(probe), $"truncated to {length} bytes");
        }

        var rng = new Rng(11);
        int failures = 0;
        for (int trial = 0; trial < 2000; trial++)
        {
            var corrupt = (byte[])original.Clone();
            int at = rng.NextInt(Math.Min(corrupt.Length, 8 + 200)); // the length field and header, where structure lives
            corrupt[at] ^= (byte)(1 << rng.NextInt(8));
            File.WriteAllBytes(probe, corrupt);
            try { SafeTensors.Read(probe); }
            catch (ModelFormatException) { failures++; }
        }
        Assert.That(failures, Is.GreaterThan(1000), "most header corruptions must be detected");
    }
}
