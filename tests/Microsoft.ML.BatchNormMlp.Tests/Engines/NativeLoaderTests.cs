using System.Buffers.Binary;
using System.Text;
using Microsoft.ML.BatchNormMlp.Engines.TorchSharp;
using TorchSharp;

namespace Microsoft.ML.BatchNormMlp.Tests.Engines;

/// <summary>
/// The libstdc++ fix: on the real libLibTorchSharp.so it marks exactly the GLIBCXX_3.4.32 need weak and changes
/// nothing else; on synthetic ELF files it matches the needed file and the version by name, leaves weak or absent
/// needs alone, and refuses malformed files; and it writes its copy only where the system's libstdc++ lacks the
/// version, never into the package directory.
/// </summary>
public class NativeLoaderTests
{
    private static string RealLibrary() =>
        NativeLoader.FindBeside(typeof(torch).Assembly, NativeLoader.LibraryFileName) ?? throw new FileNotFoundException("libLibTorchSharp.so is not in the test's output (TorchSharp-cpu).");

    [Test]
    public void TheRealLibraryGetsOneFlagAndNothingElse()
    {
        byte[] original = File.ReadAllBytes(RealLibrary());
        var needs = NativeLoader.VersionNeeds(original);
        Assert.That(needs, Does.Contain((NativeLoader.LibStdCxx, NativeLoader.PinnedVersion, (ushort)0)), "TorchSharp 0.107 needs GLIBCXX_3.4.32 (not weakly)");
        Assert.That(NativeLoader.Needed(original), Does.Contain("libtorch_cpu.so").And.Contain(NativeLoader.LibStdCxx));

        byte[] patched = NativeLoader.WithWeakNeed(original, NativeLoader.LibStdCxx, NativeLoader.PinnedVersion)!;
        Assert.That(patched, Is.Not.Null);
        int changed = Enumerable.Range(0, original.Length).Count(i => original[i] != patched[i]);
        Assert.That(changed, Is.EqualTo(1), "one byte: the low byte of vna_flags");
        var after = NativeLoader.VersionNeeds(patched);
        for (int i = 0; i < needs.Count; i++)
            Assert.That(after[i], Is.EqualTo(needs[i].Version == NativeLoader.PinnedVersion ? needs[i] with { Flags = 2 } : needs[i]));
        Assert.That(NativeLoader.WithWeakNeed(patched, NativeLoader.LibStdCxx, NativeLoader.PinnedVersion), Is.Null, "already weak: nothing to do");
    }

    [Test]
    public void TheCopyExistsExactlyWhenTheSystemLacksTheVersion()
    {
        Assert.That(NativeLoader.SystemLibStdCxxDefines("GLIBCXX_3.4"), Is.True, "every libstdc++ defines the base version");
        Assert.That(NativeLoader.SystemLibStdCxxDefines("GLIBCXX_9.9.99"), Is.False);
        bool? has = NativeLoader.SystemLibStdCxxDefines(NativeLoader.PinnedVersion);
        TorchRuntime.Initialize(Microsoft.ML.BatchNormMlp.Training.TrainingDevice.Cpu);   // what the engine does before its first tensor
        using (var t = torch.ones(2, 2)) Assert.That(t.sum().item<float>(), Is.EqualTo(4f), "libtorch works after the loader ran");
        if (has == true)
        {
            Assert.That(NativeLoader.PatchedCopyPath, Is.Null, "a libstdc++ with GLIBCXX_3.4.32 needs no copy");
            return;
        }
        string copy = NativeLoader.PatchedCopyPath!;
        Assert.That(copy, Is.Not.Null);
        Assert.That(Path.GetFullPath(copy), Does.Not.StartWith(Path.GetDirectoryName(RealLibrary())!), "the copy lives in the library's cache, not beside the original");
        Assert.That(copy, Does.Not.Contain(".nuget"));
        Assert.That(File.ReadAllBytes(copy), Is.EqualTo(NativeLoader.WithWeakNeed(File.ReadAllBytes(RealLibrary()), NativeLoader.LibStdCxx, NativeLoader.PinnedVersion)));
        Assert.That(File.ReadLines("/proc/self/maps").Any(l => l.EndsWith(copy, StringComparison.Ordinal)), "the process runs the patched copy");
    }

    [Test]
    public void SyntheticFilesArePatchedByNameOnly()
    {
        byte[] elf = Synthetic(("libstdc++.so.6", ["GLIBCXX_3.4.30", "GLIBCXX_3.4.32"], 0), ("libfoo.so", ["GLIBCXX_3.4.32"], 0));
        byte[] patched = NativeLoader.WithWeakNeed(elf, "libstdc++.so.6", "GLIBCXX_3.4.32")!;
        Assert.That(NativeLoader.VersionNeeds(patched), Is.EqualTo(new[]
        {
            ("libstdc++.so.6", "GLIBCXX_3.4.30", (ushort)0), ("libstdc++.so.6", "GLIBCXX_3.4.32", (ushort)2), ("libfoo.so", "GLIBCXX_3.4.32", (ushort)0),
        }));
        Assert.That(NativeLoader.WithWeakNeed(Synthetic(("libstdc++.so.6", ["GLIBCXX_3.4.30"], 0)), "libstdc++.so.6", "GLIBCXX_3.4.32"), Is.Null, "no such need");
        Assert.That(NativeLoader.WithWeakNeed(Synthetic(("libstdc++.so.6", ["GLIBCXX_3.4.32"], 2)), "libstdc++.so.6", "GLIBCXX_3.4.32"), Is.Null, "already weak");
        Assert.That(NativeLoader.WithWeakNeed(Synthetic(("libfoo.so", ["GLIBCXX_3.4.32"], 0)), "libstdc++.so.6", "GLIBCXX_3.4.32"), Is.Null, "another file's need");
    }

    [Test]
    public void MalformedFilesAreRefused()
    {
        byte[] elf = Synthetic(("libstdc++.so.6", ["GLIBCXX_3.4.32"], 0));
        Assert.Throws<InvalidDataException>(() => NativeLoader.VersionNeeds(elf[..100]), "truncated: the section headers are gone");
        Assert.Throws<InvalidDataException>(() => NativeLoader.VersionNeeds(Encoding.ASCII.GetBytes("#!/bin/sh\necho not a library\n".PadRight(80))));
        var bigEndian = (byte[])elf.Clone(); bigEndian[5] = 2;
        Assert.Throws<InvalidDataException>(() => NativeLoader.VersionNeeds(bigEndian));
        var badString = (byte[])elf.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(badString.AsSpan(VerneedOffset + 4), 100_000);   // vn_file beyond the string table
        Assert.Throws<InvalidDataException>(() => NativeLoader.VersionNeeds(badString));
    }

    private const int VerneedOffset = 64;

    // A minimal ELF64 LE image: header, a .gnu.version_r at 64, a string table after it, then three section headers
    // (null, the string table, the version needs). Only what NativeLoader reads is filled in.
    private static byte[] Synthetic(params (string File, string[] Versions, ushort Flags)[] needs)
    {
        var strings = new List<byte> { 0 };
        int Str(string s) { int at = strings.Count; strings.AddRange(Encoding.ASCII.GetBytes(s)); strings.Add(0); return at; }
        var verneed = new List<byte>();
        for (int n = 0; n < needs.Length; n++)
        {
            var (file, versions, flags) = needs[n];
            int size = 16 + 16 * versions.Length;
            var entry = new byte[size];
            BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(0), 1);
            BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(2), (ushort)versions.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(4), (uint)Str(file));
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(8), 16);
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(12), n == needs.Length - 1 ? 0u : (uint)size);
            for (int v = 0; v < versions.Length; v++)
            {
                int a = 16 + 16 * v;
                BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(a + 4), flags);
                BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(a + 6), (ushort)(2 + v));
                BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(a + 8), (uint)Str(versions[v]));
                BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(a + 12), v == versions.Length - 1 ? 0u : 16u);
            }
            verneed.AddRange(entry);
        }
        int stringsAt = VerneedOffset + verneed.Count, headersAt = (stringsAt + strings.Count + 7) / 8 * 8;
        var image = new byte[headersAt + 3 * 64];
        new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1 }.CopyTo(image, 0);
        BinaryPrimitives.WriteInt64LittleEndian(image.AsSpan(0x28), headersAt);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(0x3a), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(0x3c), 3);
        verneed.CopyTo(image, VerneedOffset);
        strings.CopyTo(image, stringsAt);
        void Section(int index, uint type, long offset, long size, int link, int info)
        {
            int h = headersAt + 64 * index;
            BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(h + 4), type);
            BinaryPrimitives.WriteInt64LittleEndian(image.AsSpan(h + 0x18), offset);
            BinaryPrimitives.WriteInt64LittleEndian(image.AsSpan(h + 0x20), size);
            BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(h + 0x28), (uint)link);
            BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(h + 0x2c), (uint)info);
        }
        Section(1, 3, stringsAt, strings.Count, 0, 0);                                  // SHT_STRTAB
        Section(2, 0x6ffffffe, VerneedOffset, verneed.Count, 1, needs.Length);        // SHT_GNU_verneed
        return image;
    }
}
