using System.Buffers;
using System.Text;

namespace Microsoft.ML.BatchNormMlp.Featurization;

/// <summary>
/// Splits a file's bytes into lines and decodes each as strict UTF-8, so that a bad byte is reported with the
/// line it sits on instead of silently becoming U+FFFD. Accepts a UTF-8 byte order mark and LF or CRLF endings.
/// </summary>
internal static class Utf8Lines
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The lines of <paramref name="bytes"/>, untrimmed, without their line endings; line n is at index n-1.</summary>
    /// <exception cref="InvalidDataException">Invalid UTF-8; the message names <paramref name="source"/>, the line and the byte.</exception>
    public static List<string> Split(ReadOnlySpan<byte> bytes, string source)
    {
        bool bom = bytes.StartsWith(Encoding.UTF8.Preamble);
        if (bom) bytes = bytes[3..];
        else if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
            throw new InvalidDataException($"{source}: the file starts with a UTF-16 byte order mark; save it as UTF-8.");

        var lines = new List<string>();
        int lineNumber = 0;
        while (!bytes.IsEmpty)
        {
            lineNumber++;
            int end = bytes.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = end < 0 ? bytes : bytes[..end];
            bytes = end < 0 ? default : bytes[(end + 1)..];
            if (!line.IsEmpty && line[^1] == (byte)'\r') line = line[..^1];
            lines.Add(Decode(line, source, lineNumber, bom));
        }
        return lines;
    }

    private static string Decode(ReadOnlySpan<byte> line, string source, int lineNumber, bool bom)
    {
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
                $"{source}, line {lineNumber}, byte {offset + 1 + (bom && lineNumber == 1 ? 3 : 0)}: invalid UTF-8 (bytes 0x{hex}); save the file as UTF-8.");
        }
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
