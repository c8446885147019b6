using System.Buffers;
using System.Text;

namespace Microsoft.ML.BatchNormMlp.Featurization;

/// <summary>
/// Reads a text file line by line and decodes each line as strict UTF-8, so that a bad byte is reported with the
/// line it sits on instead of silently becoming U+FFFD. Accepts a UTF-8 byte order mark and LF or CRLF endings.
/// Streams: memory is bounded by the longest line allowed, whatever the file holds, and what is plainly not UTF-8
/// text (UTF-16, an image, an archive, other binary data) is named as such.
/// </summary>
internal static class Utf8Lines
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The lines of <paramref name="stream"/> in order, untrimmed, without their line endings, read as they are
    /// enumerated.
    /// </summary>
    /// <param name="stream">The text, read from its current position to its end.</param>
    /// <param name="source">Names the text in error messages (the file path).</param>
    /// <param name="maxLineBytes">The longest line accepted, in bytes without its line ending.</param>
    /// <exception cref="InvalidDataException">
    /// Not UTF-8 text, or a line longer than <paramref name="maxLineBytes"/>; the message names
    /// <paramref name="source"/>, the line and the byte.
    /// </exception>
    public static IEnumerable<string> Read(Stream stream, string source, int maxLineBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var chunk = new byte[64 * 1024];
        var line = new byte[Math.Min(maxLineBytes, 256)]; // grows up to maxLineBytes (+1 for a trailing '\r')
        int length = 0, lineNumber = 1;
        while (true)
        {
            int read = stream.Read(chunk, 0, chunk.Length);
            int start = 0;
            for (int i = 0; i <= read; i++)
            {
                bool end = i == read;
                if (!end && chunk[i] != (byte)'\n') continue;
                int n = i - start;
                if ((long)length + n > (long)maxLineBytes + 1)
                {
                    Append(ref line, ref length, chunk.AsSpan(start, (int)Math.Min(n, (long)maxLineBytes + 1 - length)));
                    Check(line.AsSpan(0, length), source, lineNumber); // a binary file is named as such before its length is
                    throw new InvalidDataException(
                        $"{source}, line {lineNumber}: the line is longer than {maxLineBytes} bytes; this reader takes one short entry per line (is it the right file?).");
                }
                Append(ref line, ref length, chunk.AsSpan(start, n));
                start = i + 1;
                if (end) break;
                yield return Decode(line.AsSpan(0, length), source, lineNumber++, maxLineBytes);
                length = 0;
            }
            if (read == 0)
            {
                if (length > 0) yield return Decode(line.AsSpan(0, length), source, lineNumber, maxLineBytes);
                yield break;
            }
        }
    }

    private static void Append(ref byte[] line, ref int length, ReadOnlySpan<byte> bytes)
    {
        if (length + bytes.Length > line.Length)
            Array.Resize(ref line, Math.Max(length + bytes.Length, (int)Math.Min(2L * line.Length, Array.MaxLength)));
        bytes.CopyTo(line.AsSpan(length));
        length += bytes.Length;
    }

    private static string Decode(ReadOnlySpan<byte> line, string source, int lineNumber, int maxLineBytes)
    {
        int skipped = Check(line, source, lineNumber);
        line = line[skipped..];
        if (!line.IsEmpty && line[^1] == (byte)'\r') line = line[..^1];
        if (line.Length > maxLineBytes)
            throw new InvalidDataException(
                $"{source}, line {lineNumber}: the line is longer than {maxLineBytes} bytes; this reader takes one short entry per line (is it the right file?).");
        try
        {
            return Strict.GetString(line);
        }
        catch (DecoderFallbackException)
        {
            int offset = FirstInvalidByte(line);
            // On line 1 the BOM was skipped: report the byte's position as the user's editor counts it in the line.
            string hex = Convert.ToHexString(line.Slice(offset, Math.Min(4, line.Length - offset)));
            throw new InvalidDataException(
                $"{source}, line {lineNumber}, byte {offset + 1 + skipped}: invalid UTF-8 (bytes 0x{hex}); save the file as UTF-8.");
        }
    }

    /// <summary>Refuses what is plainly not UTF-8 text; returns the bytes to skip (a UTF-8 BOM on line 1).</summary>
    private static int Check(ReadOnlySpan<byte> line, string source, int lineNumber)
    {
        int skip = 0;
        if (lineNumber == 1)
        {
            if (line.StartsWith(Encoding.UTF8.Preamble)) skip = 3;
            else if (line.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || line.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
                throw new InvalidDataException($"{source}: the file looks like UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8.");
            else if (KnownBinary(line) is string kind)
                throw new InvalidDataException($"{source}: the file looks like {kind}, not UTF-8 text (it starts with the bytes 0x{Convert.ToHexString(line[..Math.Min(4, line.Length)])}).");
        }
        int nul = line.IndexOf((byte)0);
        if (nul >= 0)
        {
            // UTF-16 without a BOM puts a NUL beside every ASCII character; anything else with a NUL is binary.
            bool utf16 = nul + 1 < line.Length && (nul == 0 || line[nul - 1] != 0) && LooksLikeUtf16(line);
            throw new InvalidDataException(utf16
                ? $"{source}, line {lineNumber}, byte {nul + 1}: a NUL byte between characters; the file looks like UTF-16 without a byte order mark. Save it as UTF-8."
                : $"{source}, line {lineNumber}, byte {nul + 1}: a NUL byte; this looks like a binary file, not UTF-8 text.");
        }
        return skip;
    }

    private static string? KnownBinary(ReadOnlySpan<byte> start) =>
        start.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']) ? "a PNG image"
        : start.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "a JPEG image"
        : start.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B]) ? "a gzip archive (decompress it first)"
        : start.StartsWith((ReadOnlySpan<byte>)[(byte)'P', (byte)'K', 3, 4]) ? "a zip archive (extract it first)"
        : start.StartsWith("%PDF"u8) ? "a PDF document"
        : start.StartsWith((ReadOnlySpan<byte>)[0x7F, (byte)'E', (byte)'L', (byte)'F']) ? "an executable"
        : null;

    /// <summary>Whether the first bytes alternate ASCII and NUL (in either order), as UTF-16 text of ASCII does.</summary>
    private static bool LooksLikeUtf16(ReadOnlySpan<byte> line)
    {
        int pairs = Math.Min(line.Length / 2, 16);
        if (pairs < 2) return false;
        int low = 0, high = 0;
        for (int p = 0; p < pairs; p++)
        {
            byte a = line[2 * p], b = line[2 * p + 1];
            if (a != 0 && a < 0x80 && b == 0) low++;
            if (b != 0 && b < 0x80 && a == 0) high++;
        }
        return low == pairs || high == pairs;
    }

    private static int FirstInvalidByte(ReadOnlySpan<byte> line)
    {
        int offset = 0;
        while (offset < line.Length)
        {
            if (Rune.DecodeFromUtf8(line[offset..], out _, out int consumed) != OperationStatus.Done) return offset;
            offset += consumed;
        }
        return 0; // unreachable when the strict decoder failed
    }
}
