using System.Buffers.Binary;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Microsoft.ML.BatchNormMlp.Engines.TorchSharp;

/// <summary>
/// Makes TorchSharp's native library load on Linux systems whose libstdc++ predates GCC 13 (Debian 12: symbol
/// versions up to GLIBCXX_3.4.30). TorchSharp 0.107's <c>libLibTorchSharp.so</c> lists GLIBCXX_3.4.32 in its
/// <c>.gnu.version_r</c> (version needs) for a single symbol, <c>std::ios_base_library_init()</c>, which GCC 13
/// references only to pin the libstdc++ version; no relocation uses it. The dynamic loader refuses a library whose
/// needed version is missing unless that need is marked weak (<c>VER_FLG_WEAK</c>), so a copy with that one flag set
/// loads and runs on the older libstdc++.
/// <para>
/// When, and only when, the library needs GLIBCXX_3.4.32 from libstdc++.so.6 and the process's libstdc++ does not
/// define it, this writes such a copy to this library's own cache directory (never the NuGet package cache, never the
/// system; a temporary file renamed into place), loads the libtorch libraries it needs from beside the original, then
/// the copy. TorchSharp's later load of <c>LibTorchSharp</c> finds it by its soname. Everywhere else (GCC 13+'s
/// libstdc++, Windows, macOS, a TorchSharp build without the need) it does nothing.
/// </para>
/// </summary>
internal static class NativeLoader
{
    public const string LibraryFileName = "libLibTorchSharp.so";
    public const string PinnedVersion = "GLIBCXX_3.4.32";
    public const string LibStdCxx = "libstdc++.so.6";

    private const uint ShtDynamic = 6, ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;
    private static readonly object Gate = new();
    private static bool _done;

    /// <summary>What <see cref="EnsureLoadable"/> did: nothing was needed, or the path of the patched copy it loaded.</summary>
    public static string? PatchedCopyPath { get; private set; }

    /// <summary>Call before the first use of TorchSharp; idempotent and thread-safe.</summary>
    /// <param name="torchSharp">TorchSharp.dll, whose native search directories are searched for the library.</param>
    public static void EnsureLoadable(Assembly torchSharp)
    {
        lock (Gate)
        {
            if (_done) return;
            _done = true;
            if (!OperatingSystem.IsLinux()) return;
            string? original = FindBeside(torchSharp, LibraryFileName);
            if (original is null) return;   // TorchSharp reports its own missing-library error
            byte[] image = File.ReadAllBytes(original);
            byte[]? patched = WithWeakNeed(image, LibStdCxx, PinnedVersion);
            // Undetermined (no libstdc++ found in the maps) counts as missing: a weak need is harmless where the version exists.
            if (patched is null || SystemLibStdCxxDefines(PinnedVersion) == true) return;
            string copy = WriteCached(patched, Convert.ToHexString(SHA256.HashData(image))[..16].ToLowerInvariant());
            // The copy's RUNPATH ($ORIGIN) points into the cache: load its libtorch dependencies from beside the original,
            // so that the loader finds them already loaded by soname.
            string directory = Path.GetDirectoryName(original)!;
            foreach (string needed in Needed(image))
            {
                string beside = Path.Combine(directory, needed);
                if (File.Exists(beside)) NativeLibrary.Load(beside);
            }
            NativeLibrary.Load(copy);
            PatchedCopyPath = copy;
        }
    }

    /// <summary>
    /// A copy of the ELF image with the need of <paramref name="version"/> from <paramref name="file"/> marked weak, or
    /// null when the image has no such need (or it is already weak). Malformed images are an <see cref="InvalidDataException"/>.
    /// </summary>
    public static byte[]? WithWeakNeed(byte[] image, string file, string version)
    {
        var elf = new Elf(image);
        foreach (var need in elf.VersionNeeds())
            if (need.File == file && need.Version == version && (need.Flags & VerFlagWeak) == 0)
            {
                var copy = (byte[])image.Clone();
                BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(need.FlagsOffset), (ushort)(need.Flags | VerFlagWeak));
                return copy;
            }
        return null;
    }

    /// <summary>Every version need of an ELF image: (needed file, version name, flags).</summary>
    public static IReadOnlyList<(string File, string Version, ushort Flags)> VersionNeeds(byte[] image) =>
        new Elf(image).VersionNeeds().Select(n => (n.File, n.Version, n.Flags)).ToList();

    /// <summary>The DT_NEEDED entries of an ELF image, in order.</summary>
    public static IReadOnlyList<string> Needed(byte[] image) => new Elf(image).Needed();

    /// <summary>The version names an ELF image defines (<c>.gnu.version_d</c>).</summary>
    public static IReadOnlyList<string> VersionDefinitions(byte[] image) => new Elf(image).VersionDefinitions();

    /// <summary>Whether the libstdc++ this process loads defines <paramref name="version"/>; null when it cannot be found.</summary>
    public static bool? SystemLibStdCxxDefines(string version)
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad(LibStdCxx, out _)) return null;
        // The loaded copy is the one the dynamic loader will bind libLibTorchSharp.so to: find its file in our own maps.
        string? path = File.ReadLines("/proc/self/maps")
            .Select(line => line.IndexOf('/') is int at and >= 0 ? line[at..] : null)
            .FirstOrDefault(p => p is not null && Path.GetFileName(p).StartsWith("libstdc++.so", StringComparison.Ordinal));
        return path is null ? null : VersionDefinitions(File.ReadAllBytes(path)).Contains(version);
    }

    /// <summary>The file <paramref name="fileName"/> in the native search directories of the application or beside <paramref name="assembly"/>.</summary>
    public static string? FindBeside(Assembly assembly, string fileName)
    {
        var directories = new List<string>();
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string list)
            directories.AddRange(list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        directories.Add(AppContext.BaseDirectory);
        if (Path.GetDirectoryName(assembly.Location) is { Length: > 0 } own) directories.Add(own);
        string rid = RuntimeInformation.RuntimeIdentifier.Contains("arm64", StringComparison.Ordinal) ? "linux-arm64" : "linux-x64";
        foreach (string d in directories.ToArray()) directories.Add(Path.Combine(d, "runtimes", rid, "native"));
        return directories.Select(d => Path.Combine(d, fileName)).FirstOrDefault(File.Exists);
    }

    // <cache>/Microsoft.ML.BatchNormMlp/native/<hash of the original>/libLibTorchSharp.so, reused when its bytes are right.
    private static string WriteCached(byte[] patched, string key)
    {
        string? home = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } user ? Path.Combine(user, ".cache") : null;
        var roots = new List<string>();
        if (home is not null) roots.Add(home);
        roots.Add(Path.GetTempPath());
        Exception? last = null;
        foreach (string root in roots)
        {
            string directory = Path.Combine(root, "Microsoft.ML.BatchNormMlp", "native", key);
            string path = Path.Combine(directory, LibraryFileName);
            try
            {
                if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(patched)) return path;
                Directory.CreateDirectory(directory);
                string temporary = Path.Combine(directory, $".{LibraryFileName}.{Guid.NewGuid():N}.tmp");
                File.WriteAllBytes(temporary, patched);
                File.Move(temporary, path, overwrite: true);   // atomic: a concurrent process sees the old file or the new one
                return path;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { last = e; }
        }
        throw new IOException($"Cannot write the patched copy of {LibraryFileName} to a cache directory ({string.Join(", ", roots)}): {last?.Message}", last);
    }

    /// <summary>The few parts of a little-endian ELF64 file read here: section headers, version needs and definitions, DT_NEEDED.</summary>
    private sealed class Elf
    {
        private readonly byte[] _b;
        private readonly (uint Type, long Offset, long Size, int Link, int Info)[] _sections;

        public Elf(byte[] image)
        {
            _b = image;
            if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
                throw new InvalidDataException("Not an ELF file.");
            if (image[4] != 2 || image[5] != 1) throw new InvalidDataException("Not a little-endian 64-bit ELF file.");
            long shoff = I64(0x28);
            int shentsize = U16(0x3a), shnum = U16(0x3c);
            if (shentsize < 64 || shoff <= 0 || shoff + (long)shnum * shentsize > image.Length)
                throw new InvalidDataException("The ELF section header table lies outside the file.");
            _sections = new (uint, long, long, int, int)[shnum];
            for (int i = 0; i < shnum; i++)
            {
                int h = checked((int)(shoff + (long)i * shentsize));
                var s = (U32(h + 4), I64(h + 0x18), I64(h + 0x20), (int)U32(h + 0x28), (int)U32(h + 0x2c));
                if (s.Item1 != 8 && (s.Item2 < 0 || s.Item3 < 0 || s.Item2 + s.Item3 > image.Length))   // SHT_NOBITS (8) has no bytes
                    throw new InvalidDataException($"ELF section {i} lies outside the file.");
                _sections[i] = s;
            }
        }

        public record struct Need(string File, string Version, ushort Flags, int FlagsOffset);

        public IEnumerable<Need> VersionNeeds()
        {
            foreach (var s in _sections.Where(s => s.Type == ShtGnuVerneed))
            {
                long at = s.Offset;
                for (int n = 0; n < s.Info; n++)   // sh_info: the number of Verneed entries
                {
                    Check(at, 16, s);
                    int count = U16(at + 2); string file = Str(s.Link, U32(at + 4));
                    long aux = at + U32(at + 8);
                    for (int k = 0; k < count; k++)
                    {
                        Check(aux, 16, s);
                        yield return new Need(file, Str(s.Link, U32(aux + 8)), (ushort)U16(aux + 4), checked((int)(aux + 4)));
                        aux += U32(aux + 12);
                    }
                    uint next = U32(at + 12);
                    if (next == 0) break;
                    at += next;
                }
            }
        }

        public List<string> VersionDefinitions()
        {
            var names = new List<string>();
            foreach (var s in _sections.Where(s => s.Type == ShtGnuVerdef))
            {
                long at = s.Offset;
                for (int n = 0; n < s.Info; n++)
                {
                    Check(at, 20, s);
                    int count = U16(at + 6);
                    long aux = at + U32(at + 12);
                    if (count > 0) { Check(aux, 8, s); names.Add(Str(s.Link, U32(aux))); }   // the first Verdaux names the version; later ones its parents
                    uint next = U32(at + 16);
                    if (next == 0) break;
                    at += next;
                }
            }
            return names;
        }

        public List<string> Needed()
        {
            var names = new List<string>();
            foreach (var s in _sections.Where(s => s.Type == ShtDynamic))
                for (long at = s.Offset; at + 16 <= s.Offset + s.Size; at += 16)
                {
                    long tag = I64(at);
                    if (tag == 0) break;   // DT_NULL ends the table
                    if (tag == 1) names.Add(Str(s.Link, checked((uint)I64(at + 8))));
                }
            return names;
        }

        private void Check(long at, int size, (uint Type, long Offset, long Size, int Link, int Info) s)
        {
            if (at < s.Offset || at + size > s.Offset + s.Size) throw new InvalidDataException("An ELF version entry lies outside its section.");
        }

        private string Str(int section, uint offset)
        {
            if (section <= 0 || section >= _sections.Length) throw new InvalidDataException($"ELF string table section {section} does not exist.");
            var t = _sections[section];
            if (offset >= t.Size) throw new InvalidDataException("An ELF string lies outside its string table.");
            var span = _b.AsSpan(checked((int)(t.Offset + offset)), checked((int)(t.Size - offset)));
            int end = span.IndexOf((byte)0);
            if (end < 0) throw new InvalidDataException("An ELF string is not terminated.");
            return Encoding.ASCII.GetString(span[..end]);
        }

        private int U16(long at) => BinaryPrimitives.ReadUInt16LittleEndian(_b.AsSpan(checked((int)at), 2));

        private uint U32(long at) => BinaryPrimitives.ReadUInt32LittleEndian(_b.AsSpan(checked((int)at), 4));

        private long I64(long at) => BinaryPrimitives.ReadInt64LittleEndian(_b.AsSpan(checked((int)at), 8));
    }
}
