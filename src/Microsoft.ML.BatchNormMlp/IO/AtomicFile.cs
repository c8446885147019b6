using System.Text;

namespace Microsoft.ML.BatchNormMlp.IO;

/// <summary>
/// Writes a file so that readers see the old content or the new, never half of it: the bytes go to a temporary
/// file beside the target (same directory, so the rename stays on one file system and is atomic), are flushed to
/// disk, and the temporary file is renamed over the target. A failed write deletes the temporary file and leaves
/// the target as it was. Temporary files are named <c>.{file name}.{guid}.tmp</c> (checkpointing cleans up the ones a
/// killed process left).
/// </summary>
internal static class AtomicFile
{
    /// <summary>Writes whatever <paramref name="write"/> puts into the stream, atomically.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)
            ?? throw new ArgumentException($"Cannot write '{path}': it names no file.", nameof(path));
        Directory.CreateDirectory(directory);
        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } // best effort: the original error matters more
            throw;
        }
    }

    /// <summary>Writes UTF-8 text (no byte-order mark) atomically.</summary>
    public static void WriteAllText(string path, string contents) =>
        Write(path, stream => stream.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(contents)));

    /// <summary>Writes bytes atomically.</summary>
    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, stream => stream.Write(bytes));
}
